package e2e

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/regcredtest"
	"github.com/regcred/regcred/registry"
)

// TestPullSecrets: the kubelet judges what regcred's controller writes. One node, one
// namespace, docker-registry with htpasswd over TLS with a private CA (trusted by
// containerd's hosts.toml):
//
//   - a pod naming the controller's Secret pulls; the same pod without it gets the
//     registry's 401 (the control);
//   - a pod naming only the ServiceAccount the controller patched pulls (the admission
//     plugin copies the ServiceAccount's imagePullSecrets into the pod); the control is the
//     first pod, whose ServiceAccount has none;
//   - a registry deleted from the Catalog: its Secret is pruned and the next pod of the
//     patched ServiceAccount gets the 401.
func TestPullSecrets(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth("deploy", "s3cret-Pa55"), testenv.WithTLS())
	n.trustCA(reg.Host, reg.CAPEM)
	image := push(t, reg.Host+"/team/app:v1", reg.Username, reg.Password, reg.CAPEM)

	cat := newCatalog(t)
	rec, err := cat.Add(ctx, registry.Registry{Name: "private", Kind: registry.KindCustom, Server: reg.Host,
		TLS:    registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(reg.CAPEM)},
		Fields: map[string]string{"username": reg.Username, "password": reg.Password}})
	if err != nil {
		t.Fatal(err)
	}
	secret := n.runController(cat, rec)

	n.mustFail("no Secret (the control)", pod{image: image, serviceAccount: "plain"}, "401 Unauthorized")
	n.mustPull("the controller's Secret named by the pod", pod{image: image, serviceAccount: "plain", pullSecrets: []string{secret}})
	p := n.mustPull("the ServiceAccount the controller patched", pod{image: image, serviceAccount: "builder"})
	if !slices.Contains(p.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: secret}) {
		t.Errorf("the admission plugin gave the pod %v, want the ServiceAccount's %s", p.Spec.ImagePullSecrets, secret)
	}

	// Deleted from the Catalog: pruned from the namespace and the ServiceAccount, and the
	// next pod's pull fails.
	if err := cat.Delete(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	n.awaitSecret(secret, func(auths map[string]dockerAuth) bool { return auths == nil })
	n.awaitServiceAccount("builder", func(refs []corev1.LocalObjectReference) bool {
		return !slices.Contains(refs, corev1.LocalObjectReference{Name: secret})
	})
	n.mustFail("a registry deleted from the Catalog", pod{image: image, serviceAccount: "builder"}, "401 Unauthorized")
}

// TestRotation: the registry's password changes on its side (the old one stops working at
// once), the Catalog is updated, and a new pod pulls with the new password: nothing is
// restarted (the controller updates the Secret in place; the kubelet reads it per pod).
// The control: after the registry's change and before the Catalog's, a pod gets the 401.
// The registry is regcredtest's in-process one, which takes a rotation on its side
// (SetCredentials); docker-registry 2.8 reads its htpasswd only at start.
func TestRotation(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	reg := regcredtest.NewRegistry(t)
	n.trustCA(reg.Host, reg.CAPEM)
	image := push(t, reg.Host+"/team/runnable:v1", reg.Username(), reg.Password(), reg.CAPEM)

	cat := newCatalog(t)
	rec, err := cat.Add(ctx, reg.Record("rotating"))
	if err != nil {
		t.Fatal(err)
	}
	secret := n.runController(cat, rec)
	n.mustPull("before the rotation", pod{image: image, serviceAccount: "builder"})

	const newPassword = "rotated-Pa55word-2"
	reg.SetCredentials(reg.Username(), newPassword)
	n.mustFail("the registry rotated, the Catalog not yet (the control)", pod{image: image, serviceAccount: "builder"}, "401 Unauthorized")

	rec.Fields["password"] = newPassword
	if _, err := cat.Update(ctx, rec); err != nil {
		t.Fatal(err)
	}
	n.awaitSecret(secret, func(auths map[string]dockerAuth) bool { return auths[reg.Host].Password == newPassword })
	n.mustPull("after the Catalog's update", pod{image: image, serviceAccount: "builder"})
}
