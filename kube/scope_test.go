package kube_test

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

// A registry scoped to some namespaces (Scope.Namespaces, names or patterns) gets its
// Secret only there; narrowing the scope prunes the Secrets it no longer may have.
func TestSyncHonoursNamespaceScope(t *testing.T) {
	ctx := context.Background()
	client := fake.NewSimpleClientset()
	s := kube.NewSyncer(client, kube.WithPrune(true))
	reg := registry.Registry{ID: "team", Name: "team", Kind: registry.KindCustom, Server: "r.example.com",
		Fields: map[string]string{"username": "u", "password": "p"}, Scope: registry.Scope{Namespaces: []string{"prod-*", "ci"}}}
	open := registry.Registry{ID: "open", Name: "open", Kind: registry.KindCustom, Server: "o.example.com",
		Fields: map[string]string{"username": "u", "password": "p"}}
	nss := []string{"prod-eu", "ci", "dev"}
	if res, err := s.Sync(ctx, []registry.Registry{reg, open}, nss); err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	has := func(ns, name string) bool {
		_, err := client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}
	for ns, want := range map[string]bool{"prod-eu": true, "ci": true, "dev": false} {
		if got := has(ns, "registry-secret-team"); got != want {
			t.Errorf("namespace %s has the scoped secret: %v, want %v", ns, got, want)
		}
		if !has(ns, "registry-secret-open") {
			t.Errorf("namespace %s lacks the unscoped secret", ns)
		}
	}

	reg.Scope.Namespaces = []string{"prod-*"}
	if res, err := s.Sync(ctx, []registry.Registry{reg, open}, nss); err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	if has("ci", "registry-secret-team") {
		t.Error("narrowing the scope left the secret in ci")
	}
	if !has("prod-eu", "registry-secret-team") || !has("ci", "registry-secret-open") {
		t.Error("narrowing one registry's scope removed what it should keep")
	}
}
