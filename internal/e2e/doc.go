// Package e2e holds regcred's end-to-end pull tests, with a real node as the judge: a
// kubelet v1.31 on containerd 1.6 and runc (internal/testenv.StartKubelet), registered
// with the test API server, pulling from real registries on loopback.
//
// The verdict of every test is the kubelet's own: its Pulled and Failed Events (with the
// registry's 401 or the x509 error in the message) and the pod's status, waited for on
// watches, never after a fixed sleep. Every test that shows a pull working has a control
// that shows the same pull failing without the thing under test (the Secret, the
// ServiceAccount's entry, the new password, the plugin's answer, the generated node
// configuration).
//
// Rules: one node per test function, with several pods on it (a node takes 1-2 s, the
// shared control plane 4-8 s once per binary: TestMain hands over to testenv.KubeletMain);
// every pod names its ServiceAccount, since the ServiceAccount admission plugin (on here, as
// in a real cluster) gives a pod without one the "default" ServiceAccount's pull secrets;
// pods use imagePullPolicy Always, so each pod is a verdict on the credentials it has now.
// The package has no code of its own beyond the tests.
package e2e
