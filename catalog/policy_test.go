package catalog_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
	"github.com/regcred/regcred/store/memory"
)

// errHidden stands for "the operation succeeded but did not show the record" (a listing).
var errHidden = &catalog.ForbiddenError{Action: catalog.ActionList, Reason: "not listed"}

// TestDefaultPolicyTable runs every row of the package doc's table through the Catalog's
// real operations, for each kind of principal: allowed ones succeed, refused ones fail
// with a *ForbiddenError naming the action, and change nothing.
func TestDefaultPolicyTable(t *testing.T) {
	principals := map[string]*catalog.Principal{
		"admin":   {User: "root", Roles: []string{catalog.RoleAdmin}},
		"owner":   {User: "owen"},
		"member":  {User: "mia", Teams: []string{"payments"}},
		"other":   {User: "otto", Teams: []string{"search"}},
		"anon":    {Teams: []string{"payments"}},
		"nobody":  nil, // no principal in the context at all
		"ownerOf": {User: "owen", Teams: []string{"search"}},
	}
	// The table of the package doc: who may.
	table := []struct {
		action  catalog.Action
		allowed []string
		do      func(ctx context.Context, cat *catalog.Catalog, id string) error
	}{
		{catalog.ActionList, []string{"admin", "owner", "member", "ownerOf"}, func(ctx context.Context, cat *catalog.Catalog, id string) error {
			list, err := cat.List(ctx)
			if err == nil && !slices.ContainsFunc(list, func(r registry.Registry) bool { return r.ID == id }) {
				return errHidden
			}
			return err
		}},
		{catalog.ActionView, []string{"admin", "owner", "member", "ownerOf"}, func(ctx context.Context, cat *catalog.Catalog, id string) error {
			_, err := cat.Get(ctx, id)
			return err
		}},
		{catalog.ActionUse, []string{"admin", "owner", "member", "ownerOf"}, func(ctx context.Context, cat *catalog.Catalog, id string) error {
			_, err := cat.Provider(ctx, id)
			return err
		}},
		{catalog.ActionTest, []string{"admin", "owner", "member", "ownerOf"}, func(ctx context.Context, cat *catalog.Catalog, id string) error {
			_, err := cat.Test(ctx, id, conntest.WithTimeout(2*time.Second))
			return err
		}},
		{catalog.ActionAdd, []string{"admin", "owner", "member", "other", "ownerOf"}, func(ctx context.Context, cat *catalog.Catalog, _ string) error {
			_, err := cat.Add(ctx, policyRecord("new"))
			return err
		}},
		{catalog.ActionEdit, []string{"admin", "owner", "ownerOf"}, func(ctx context.Context, cat *catalog.Catalog, id string) error {
			return policyUpdate(ctx, cat, id, func(r *registry.Registry) { r.Name = "renamed" })
		}},
		{catalog.ActionRotate, []string{"admin", "owner", "ownerOf"}, func(ctx context.Context, cat *catalog.Catalog, id string) error {
			return policyUpdate(ctx, cat, id, func(r *registry.Registry) { r.Fields["password"] = "rotated" })
		}},
		{catalog.ActionScope, []string{"admin", "owner", "ownerOf"}, func(ctx context.Context, cat *catalog.Catalog, id string) error {
			return policyUpdate(ctx, cat, id, func(r *registry.Registry) { r.Scope.Teams = append(r.Scope.Teams, "search") })
		}},
		{catalog.ActionSetDefault, []string{"admin"}, func(ctx context.Context, cat *catalog.Catalog, id string) error {
			return cat.SetDefault(ctx, id)
		}},
		{catalog.ActionDelete, []string{"admin", "owner", "ownerOf"}, func(ctx context.Context, cat *catalog.Catalog, id string) error {
			return cat.Delete(ctx, id)
		}},
		{catalog.ActionReveal, []string{"admin"}, func(ctx context.Context, cat *catalog.Catalog, id string) error {
			_, err := cat.Reveal(ctx, id)
			return err
		}},
	}
	if len(table) != len(catalog.Actions()) {
		t.Fatalf("the test covers %d actions, the policy has %d", len(table), len(catalog.Actions()))
	}
	for _, row := range table {
		for name, p := range principals {
			want := slices.Contains(row.allowed, name)
			t.Run(string(row.action)+"/"+name, func(t *testing.T) {
				st := memory.New()
				ctx := context.Background()
				// The record is owned by owen, shared with the payments team; a second one
				// is the default, so that set-default has something to change.
				trusted := catalog.New(st)
				rec := policyRecord("payments-registry")
				rec.Owner = "owen"
				other := policyRecord("other")
				other.Server = "other.invalid"
				other.Default = true
				saved, err := trusted.Add(ctx, rec)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := trusted.Add(ctx, other); err != nil {
					t.Fatal(err)
				}
				cat := catalog.New(st, catalog.WithAuthorizer(catalog.DefaultPolicy()))
				defer cat.Close()
				if p != nil {
					ctx = catalog.WithPrincipal(ctx, *p)
				}
				before, _ := st.List(context.Background())
				err = row.do(ctx, cat, saved.ID)
				var fe *catalog.ForbiddenError
				switch {
				case want && err != nil:
					t.Fatalf("%s refused: %v", name, err)
				case !want && err == errHidden:
					// a listing that leaves the record out
				case !want && (!errors.Is(err, registry.ErrForbidden) || !errors.As(err, &fe) || fe.Action == ""):
					t.Fatalf("%s: %v, want a *ForbiddenError", name, err)
				case !want:
					if after, _ := st.List(context.Background()); len(after) != len(before) || after[0].Version != before[0].Version || after[1].Version != before[1].Version {
						t.Fatalf("a refused %s changed the store", row.action)
					}
				}
			})
		}
	}
}

func policyRecord(name string) registry.Registry {
	return registry.Registry{Name: name, Kind: registry.KindCustom, Server: "127.0.0.1:9", TLS: registry.TLS{Mode: registry.TLSInsecure},
		Scope:  registry.Scope{Teams: []string{"payments"}},
		Fields: map[string]string{"username": "ci", "password": "pw"}}
}

func policyUpdate(ctx context.Context, cat *catalog.Catalog, id string, edit func(*registry.Registry)) error {
	admin := catalog.WithPrincipal(context.Background(), catalog.Principal{User: "root", Roles: []string{catalog.RoleAdmin}})
	cur, err := cat.Get(admin, id) // the form as shown

	if err != nil {
		return err
	}
	edit(&cur)
	_, err = cat.Update(ctx, cur)
	return err
}

// Update splits an edit into the actions it really needs: a member's rename is an edit
// (refused), an owner's rename is not a rotation, and an unchanged form changes nothing.
func TestUpdateActions(t *testing.T) {
	st := memory.New()
	ctx := catalog.WithPrincipal(context.Background(), catalog.Principal{User: "owen"})
	cat := catalog.New(st, catalog.WithAuthorizer(catalog.AuthorizerFunc(func(_ context.Context, p catalog.Principal, a catalog.Action, r registry.Registry) error {
		if a == catalog.ActionRotate || a == catalog.ActionScope {
			return &catalog.ForbiddenError{Action: a, User: p.User}
		}
		return nil
	})))
	saved, err := cat.Add(ctx, policyRecord("r"))
	if err != nil {
		t.Fatal(err)
	}
	form := saved
	form.Name = "renamed"
	if _, err := cat.Update(ctx, form); err != nil {
		t.Fatalf("a rename needs edit only: %v", err)
	}
	cur, _ := cat.Get(ctx, saved.ID)
	form = cur.Clone()
	form.Fields["password"] = "new"
	var fe *catalog.ForbiddenError
	if _, err := cat.Update(ctx, form); !errors.As(err, &fe) || fe.Action != catalog.ActionRotate {
		t.Fatalf("a new password = %v, want refused as rotate", err)
	}
	form = cur.Clone()
	form.Scope = registry.Scope{}
	if _, err := cat.Update(ctx, form); !errors.As(err, &fe) || fe.Action != catalog.ActionScope {
		t.Fatalf("a new scope = %v, want refused as scope", err)
	}
	again, err := cat.Update(ctx, cur)
	if err != nil || again.Version != cur.Version {
		t.Fatalf("an unchanged form: v%d, %v; want no new version (v%d)", again.Version, err, cur.Version)
	}
}

// A subscriber hears only of the registries its principal may list; a factory, which has
// no context to carry a principal, serves no saved record on an authorizing Catalog.
func TestAuthorizedSubscribeAndFactory(t *testing.T) {
	st := memory.New()
	bg, cancel := context.WithCancel(context.Background())
	defer cancel()
	cat := catalog.New(st, catalog.WithAuthorizer(catalog.DefaultPolicy()))
	defer cat.Close()
	mia := catalog.WithPrincipal(bg, catalog.Principal{User: "mia", Teams: []string{"payments"}})
	otto := catalog.WithPrincipal(bg, catalog.Principal{User: "otto", Teams: []string{"search"}})
	miaEvents, ottoEvents := cat.Subscribe(mia), cat.Subscribe(otto)
	owen := catalog.WithPrincipal(bg, catalog.Principal{User: "owen"})
	payments, err := cat.Add(owen, policyRecord("payments")) // scoped to payments
	if err != nil {
		t.Fatal(err)
	}
	open := policyRecord("everyone")
	open.Scope, open.Server = registry.Scope{}, "127.0.0.1:10"
	everyone, err := cat.Add(owen, open)
	if err != nil {
		t.Fatal(err)
	}
	if e := <-miaEvents; e.ID != payments.ID {
		t.Fatalf("mia first heard of %s, want the payments registry", e.Registry.Name)
	}
	if e := <-miaEvents; e.ID != everyone.ID {
		t.Fatalf("mia then heard of %s", e.Registry.Name)
	}
	if e := <-ottoEvents; e.ID != everyone.ID {
		t.Fatalf("otto heard of %s first, want only the registry shared with everyone", e.Registry.Name)
	}
	if _, err := cat.ProviderFactory()(payments); !errors.Is(err, registry.ErrForbidden) {
		t.Fatalf("ProviderFactory on an authorizing Catalog = %v, want ErrForbidden (trusted components use a Catalog without one)", err)
	}
	if _, err := catalog.New(st).ProviderFactory()(payments); err != nil {
		t.Fatalf("the trusted Catalog's factory: %v", err)
	}
}
