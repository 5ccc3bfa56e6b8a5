package kube_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
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

// A registry scoped to a team (or a project) gets its Secret only in the namespaces whose
// operator-chosen label names that team; with no label key configured it gets none (an
// unmapped scope fails closed), and a Secret it has where it no longer may is pruned.
func TestSyncHonoursTeamAndProjectScope(t *testing.T) {
	ctx := context.Background()
	client := fake.NewSimpleClientset()
	for name, labels := range map[string]map[string]string{
		"payments-prod": {"example.com/team": "payments", "example.com/project": "checkout"},
		"payments-dev":  {"example.com/team": "payments", "example.com/project": "sandbox"},
		"search":        {"example.com/team": "search"},
		"unlabelled":    nil,
	} {
		if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	team := registry.Registry{ID: "team", Name: "team", Kind: registry.KindCustom, Server: "r.example.com",
		Fields: map[string]string{"username": "u", "password": "p"}, Scope: registry.Scope{Teams: []string{"payments"}}}
	project := registry.Registry{ID: "proj", Name: "proj", Kind: registry.KindCustom, Server: "p.example.com",
		Fields: map[string]string{"username": "u", "password": "p"}, Scope: registry.Scope{Teams: []string{"pay*"}, Projects: []string{"checkout"}}}
	nss := []string{"payments-prod", "payments-dev", "search", "unlabelled"}
	has := func(ns, name string) bool {
		_, err := client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}

	// No label keys: the team scope cannot be placed, so nothing is written for it.
	unmapped := kube.NewSyncer(client, kube.WithPrune(true))
	if res, err := unmapped.Sync(ctx, []registry.Registry{team, project}, nss); err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	for _, ns := range nss {
		if has(ns, "registry-secret-team") || has(ns, "registry-secret-proj") {
			t.Fatalf("namespace %s got a team-scoped secret with no team label configured", ns)
		}
	}

	s := kube.NewSyncer(client, kube.WithPrune(true),
		kube.WithScopeLabels(kube.ScopeLabels{Team: "example.com/team", Project: "example.com/project"}))
	if res, err := s.Sync(ctx, []registry.Registry{team, project}, nss); err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	want := map[string][2]bool{ // team, project
		"payments-prod": {true, true},
		"payments-dev":  {true, false},
		"search":        {false, false},
		"unlabelled":    {false, false},
	}
	for ns, w := range want {
		if got := has(ns, "registry-secret-team"); got != w[0] {
			t.Errorf("namespace %s has the payments secret: %v, want %v", ns, got, w[0])
		}
		if got := has(ns, "registry-secret-proj"); got != w[1] {
			t.Errorf("namespace %s has the checkout secret: %v, want %v", ns, got, w[1])
		}
	}

	// The namespace changes teams: its Secret goes.
	ns, _ := client.CoreV1().Namespaces().Get(ctx, "payments-dev", metav1.GetOptions{})
	ns.Labels["example.com/team"] = "search"
	if _, err := client.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Sync(ctx, []registry.Registry{team, project}, nss); err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	if has("payments-dev", "registry-secret-team") {
		t.Error("a namespace that left the team kept the team's secret")
	}
}
