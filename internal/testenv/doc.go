// Package testenv starts the real components that regcred's integration tests run against,
// all on loopback: the distribution registry (Debian's docker-registry, also as a
// pull-through mirror), skopeo, dockerd and swarm, docker-compose, PostgreSQL, Chromium,
// etcd with kube-apiserver and kube-controller-manager, and a kubelet on containerd and
// runc (StartKubelet: one node per test, everything torn down). Each Start function skips the test with a loud message when its
// component is missing on a developer's machine, and fails it when CI=true (or
// REGCRED_REQUIRE_INTEGRATION=1), so CI never passes by skipping.
package testenv
