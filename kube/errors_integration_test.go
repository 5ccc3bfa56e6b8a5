package kube_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

// TestWriteIntoTerminatingNamespace: the real API server's NamespaceLifecycle refusal is
// reported as a terminating namespace, not as missing RBAC.
func TestWriteIntoTerminatingNamespace(t *testing.T) {
	k := testenv.StartKube(t)
	ctx := context.Background()
	ns := k.Namespace(t, "terminating")
	// A finalizer keeps the namespace terminating until the test lets it go.
	const hold = "regcred.io/test-hold"
	cms := k.Client.CoreV1().ConfigMaps(ns)
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "hold", Finalizers: []string{hold}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cm, err := cms.Get(ctx, "hold", metav1.GetOptions{}); err == nil {
			cm.Finalizers = nil
			_, _ = cms.Update(ctx, cm, metav1.UpdateOptions{})
		}
	})
	if err := k.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	s := kube.NewSyncer(k.Client, kube.WithManagedBy("regcred-terminating-test"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := s.Sync(ctx, []registry.Registry{ghcr("term", "pw")}, []string{ns})
		if err != nil {
			t.Fatal(err)
		}
		err = res.Err()
		if errors.Is(err, kube.ErrNamespaceTerminating) {
			if errors.Is(err, registry.ErrForbidden) || strings.Contains(err.Error(), "RBAC") {
				t.Fatalf("terminating namespace reported as RBAC: %v", err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("write into a terminating namespace: %v, want ErrNamespaceTerminating", err)
		}
		time.Sleep(100 * time.Millisecond) // the admission's namespace cache is a step behind
	}
}
