package catalog_test

import (
	"context"
	"errors"
	"testing"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

func TestScopeAllows(t *testing.T) {
	payments := registry.Scope{Teams: []string{"payments"}, Namespaces: []string{"prod-*", "staging"}}
	tests := []struct {
		scope registry.Scope
		sub   registry.Subject
		want  bool
	}{
		{registry.Scope{}, registry.Subject{}, true},
		{registry.Scope{}, registry.Subject{Teams: []string{"any"}, Namespace: "x"}, true},
		{payments, registry.Subject{Teams: []string{"web", "payments"}, Namespace: "prod-eu"}, true},
		{payments, registry.Subject{Teams: []string{"payments"}, Namespace: "staging"}, true},
		{payments, registry.Subject{Teams: []string{"payments"}, Namespace: "dev"}, false},
		{payments, registry.Subject{Teams: []string{"web"}, Namespace: "prod-eu"}, false},
		{payments, registry.Subject{Namespace: "prod-eu"}, false},        // no team given: a team scope does not allow it
		{payments, registry.Subject{Teams: []string{"payments"}}, false}, // no namespace given
		{registry.Scope{Projects: []string{"shop"}}, registry.Subject{Project: "shop"}, true},
		{registry.Scope{Projects: []string{"shop"}}, registry.Subject{Project: "shop2"}, false},
	}
	for _, tt := range tests {
		if got := tt.scope.Allows(tt.sub); got != tt.want {
			t.Errorf("%+v.Allows(%+v) = %v, want %v", tt.scope, tt.sub, got, tt.want)
		}
	}
}

func TestScopeValidate(t *testing.T) {
	for _, bad := range []registry.Scope{
		{Teams: []string{""}},
		{Namespaces: []string{" prod"}},
		{Projects: []string{"[unclosed"}},
	} {
		var fe *registry.FieldError
		if err := bad.Validate(); !errors.As(err, &fe) || fe.Field[:6] != "scope." {
			t.Errorf("%+v.Validate() = %v, want a FieldError on scope.*", bad, err)
		}
	}
	// The Catalog refuses to save a bad scope.
	f := newCatFixture(t, memory.New())
	r := catHarbor("h", "h.example.com", "pw")
	r.Scope = registry.Scope{Teams: []string{"[bad"}}
	if _, err := f.cat.Add(context.Background(), r); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("Add with a bad scope = %v", err)
	}
}

// The Catalog honours scope: a Subject's Keychain and list hold only what it may use.
func TestCatalogScope(t *testing.T) {
	ctx := context.Background()
	f := newCatFixture(t, memory.New())
	t.Cleanup(func() { f.cat.Close() })
	open, _ := f.cat.Add(ctx, catHarbor("open", "open.example.com", "pw"))
	scoped := catHarbor("payments", "pay.example.com", "pw")
	scoped.Scope = registry.Scope{Teams: []string{"payments"}}
	pay, err := f.cat.Add(ctx, scoped)
	if err != nil {
		t.Fatal(err)
	}
	if pay.Scope.Teams[0] != "payments" {
		t.Fatalf("scope not saved: %+v", pay.Scope)
	}
	for _, tt := range []struct {
		sub  registry.Subject
		want []string
	}{
		{registry.Subject{Teams: []string{"web"}}, []string{open.ID}},
		{registry.Subject{Teams: []string{"payments"}}, []string{open.ID, pay.ID}},
	} {
		kc, err := f.cat.KeychainFor(ctx, tt.sub)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range kc.Registries() {
			got = append(got, r.ID)
		}
		list, _ := f.cat.ListFor(ctx, tt.sub)
		var listed []string
		for _, r := range list {
			listed = append(listed, r.ID)
		}
		if len(got) != len(tt.want) || len(listed) != len(tt.want) {
			t.Fatalf("%+v: keychain %v, list %v; want %v", tt.sub, got, listed, tt.want)
		}
		_, ok := kc.Match("pay.example.com/app")
		if ok != (len(tt.want) == 2) {
			t.Fatalf("%+v: the scoped registry matches = %v", tt.sub, ok)
		}
	}
	// The scoped Keychain shares the Catalog's providers.
	kc, _ := f.cat.KeychainFor(ctx, registry.Subject{Teams: []string{"payments"}})
	p1, _ := kc.Provider(pay.ID)
	p2, _ := f.cat.Provider(ctx, pay.ID)
	if p1 != p2 {
		t.Fatal("a scoped keychain built its own provider")
	}
}
