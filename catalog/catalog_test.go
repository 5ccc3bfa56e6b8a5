package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/regcredtest"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/file"
	"github.com/regcred/regcred/store/memory"
)

var catT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// catFixture is a Catalog with a stepping clock and sequential IDs over a store.
type catFixture struct {
	cat   *catalog.Catalog
	store registry.Store
	ticks atomic.Int64
	ids   atomic.Int64
	usage map[string][]string
	mu    sync.Mutex
}

func newCatFixture(t *testing.T, s registry.Store, opts ...catalog.Option) *catFixture {
	t.Helper()
	f := &catFixture{store: s, usage: map[string][]string{}}
	base := []catalog.Option{
		catalog.WithNow(func() time.Time { return catT0.Add(time.Duration(f.ticks.Add(1)) * time.Minute) }),
		catalog.WithIDs(func() string { return fmt.Sprintf("reg-%03d", f.ids.Add(1)) }),
		catalog.WithUsage(func(ctx context.Context, r registry.Registry) ([]string, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if r.Fields["password"] != "" && r.Fields["password"] != registry.Redacted {
				return nil, errors.New("the usage hook got a secret")
			}
			if refs, ok := f.usage[r.ID]; ok && refs == nil {
				return nil, errors.New("usage service down")
			}
			return f.usage[r.ID], nil
		}),
		catalog.WithProviderFactory(fixture.Factory),
	}
	f.cat = catalog.New(s, append(base, opts...)...)
	return f
}

func catHarbor(name, server, password string) registry.Registry {
	return registry.Registry{Name: name, Kind: registry.KindHarbor, Server: server, Owner: "alice",
		Fields: map[string]string{"username": "robot$ci", "password": password}}
}

func catDefaults(t *testing.T, cat *catalog.Catalog) []string {
	t.Helper()
	list, err := cat.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range list {
		if r.Default {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// plainStore hides the optional interfaces of a Store, as a platform's own Store without
// them would be.
type plainStore struct{ registry.Store }

func forEachStore(t *testing.T, fn func(t *testing.T, s registry.Store)) {
	for name, open := range fixture.Stores(t) {
		t.Run(name, func(t *testing.T) { fn(t, open(t)) })
	}
}

func TestCatalogAdd(t *testing.T) {
	forEachStore(t, func(t *testing.T, s registry.Store) {
		ctx := context.Background()
		f := newCatFixture(t, s)
		got, err := f.cat.Add(ctx, catHarbor("harbor", "harbor.example.com", "pw-1"))
		if err != nil {
			t.Fatal(err)
		}
		want := registry.Registry{ID: "reg-001", Name: "harbor", Kind: registry.KindHarbor, Server: "harbor.example.com",
			Owner: "alice", Fields: map[string]string{"username": "robot$ci", "password": registry.Redacted},
			Version: 1, Created: catT0.Add(time.Minute), Updated: catT0.Add(time.Minute)}
		if !got.IsRedacted() {
			t.Error("Add returned a record not marked redacted")
		}
		if diff := cmp.Diff(want.Redacted(), got, cmp.AllowUnexported(registry.Registry{})); diff != "" {
			t.Fatalf("Add returned (-want +got):\n%s", diff)
		}
		stored, _ := s.Get(ctx, "reg-001")
		if stored.Fields["password"] != "pw-1" {
			t.Fatalf("the store must keep the real secret, got %q", stored.Fields["password"])
		}
		// The second one is not the default.
		second, err := f.cat.Add(ctx, registry.Registry{ID: "mine", Name: "pub", Kind: registry.KindPublic})
		if err != nil {
			t.Fatal(err)
		}
		if second.ID != "mine" || second.Default {
			t.Fatalf("second = %+v", second)
		}
		if _, err := f.cat.Add(ctx, registry.Registry{ID: "mine", Name: "again", Kind: registry.KindPublic}); !errors.Is(err, registry.ErrConflict) {
			t.Fatalf("duplicate id = %v, want ErrConflict", err)
		}
	})
}

func TestCatalogAddValidates(t *testing.T) {
	ctx := context.Background()
	f := newCatFixture(t, memory.New())
	tests := []struct {
		name  string
		r     registry.Registry
		field string
	}{
		{"no name", registry.Registry{Kind: registry.KindPublic}, "name"},
		{"unknown kind", registry.Registry{Name: "x", Kind: "gitlab"}, "type"},
		{"missing password", catHarbor("h", "h.example.com", ""), "password"},
		{"bad url", catHarbor("h", "ftp://h.example.com", "p"), "url"},
		{"unknown field", registry.Registry{Name: "x", Kind: registry.KindPublic, Fields: map[string]string{"token": "t"}}, "token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.cat.Add(ctx, tt.r)
			var fe *registry.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, registry.ErrInvalid) {
				t.Fatalf("Add = %v, want a FieldError for %q", err, tt.field)
			}
		})
	}
	if l, _ := f.cat.List(ctx); len(l) != 0 {
		t.Fatalf("invalid records were saved: %v", l)
	}
}

func TestCatalogDefaults(t *testing.T) {
	forEachStore(t, func(t *testing.T, s registry.Store) {
		ctx := context.Background()
		f := newCatFixture(t, s)
		if _, err := f.cat.Default(ctx); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("Default of an empty catalog = %v, want ErrNotFound", err)
		}
		a, _ := f.cat.Add(ctx, catHarbor("a", "a.example.com", "p"))
		b, _ := f.cat.Add(ctx, catHarbor("b", "b.example.com", "p"))
		if d := catDefaults(t, f.cat); len(d) != 0 {
			t.Fatalf("defaults %v before any was chosen: the first registry must not become the default unasked", d)
		}
		c := catHarbor("c", "c.example.com", "p")
		c.Default = true
		c, _ = f.cat.Add(ctx, c)
		if diff := cmp.Diff([]string{c.ID}, catDefaults(t, f.cat)); diff != "" {
			t.Fatalf("added with Default (-want +got):\n%s", diff)
		}
		if err := f.cat.SetDefault(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{b.ID}, catDefaults(t, f.cat)); diff != "" {
			t.Fatalf("after SetDefault (-want +got):\n%s", diff)
		}
		// SetDefault of the default changes nothing.
		before, _ := f.cat.Get(ctx, b.ID)
		if err := f.cat.SetDefault(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		after, _ := f.cat.Get(ctx, b.ID)
		if after.Version != before.Version {
			t.Fatalf("SetDefault of the default bumped the version %d -> %d", before.Version, after.Version)
		}
		d, err := f.cat.Default(ctx)
		if err != nil || d.ID != b.ID || d.Fields["password"] != registry.Redacted {
			t.Fatalf("Default = %+v, %v", d, err)
		}
		if err := f.cat.SetDefault(ctx, "nope"); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("SetDefault(nope) = %v", err)
		}
		// Update can move the default too.
		a, _ = f.cat.Get(ctx, a.ID)
		a.Default = true
		if _, err := f.cat.Update(ctx, a); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{a.ID}, catDefaults(t, f.cat)); diff != "" {
			t.Fatalf("after Update with Default (-want +got):\n%s", diff)
		}
		// Deleting the default leaves none.
		if err := f.cat.Delete(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if got := catDefaults(t, f.cat); len(got) != 0 {
			t.Fatalf("defaults after deleting the default = %v", got)
		}
		if _, err := f.cat.Default(ctx); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("Default = %v, want ErrNotFound", err)
		}
		// Only the very first registry becomes the default by itself.
		if d, _ := f.cat.Add(ctx, catHarbor("d", "d.example.com", "p")); d.Default {
			t.Fatal("a registry added later became the default without asking")
		}
	})
}

func TestCatalogUpdateRotation(t *testing.T) {
	forEachStore(t, func(t *testing.T, s registry.Store) {
		ctx := context.Background()
		f := newCatFixture(t, s)
		added, err := f.cat.Add(ctx, catHarbor("harbor", "harbor.example.com", "old-password"))
		if err != nil {
			t.Fatal(err)
		}
		stored := func() registry.Registry {
			r, err := s.Get(ctx, added.ID)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}

		// The redacted view sent back with a new name keeps the password.
		form := added
		form.Name = "harbor-prod"
		v2, err := f.cat.Update(ctx, form)
		if err != nil {
			t.Fatal(err)
		}
		if v2.Version != 2 || v2.Name != "harbor-prod" || !v2.Updated.After(added.Updated) || !v2.Created.Equal(added.Created) {
			t.Fatalf("after update: %+v", v2)
		}
		if got := stored().Fields["password"]; got != "old-password" {
			t.Fatalf("a Redacted secret was not kept: %q", got)
		}

		// An empty or missing secret keeps it too.
		form = v2
		form.Fields = map[string]string{"username": "robot$ci", "password": ""}
		v3, err := f.cat.Update(ctx, form)
		if err != nil {
			t.Fatal(err)
		}
		if v3.Version != v2.Version {
			t.Fatalf("an unchanged form wrote version %d, want none (still %d)", v3.Version, v2.Version)
		}
		form = v3
		form.Fields = map[string]string{"username": "robot$ci2"}
		v4, err := f.cat.Update(ctx, form)
		if err != nil {
			t.Fatal(err)
		}
		if got := stored(); got.Fields["password"] != "old-password" || got.Fields["username"] != "robot$ci2" {
			t.Fatalf("fields = %v", got.Redacted().Fields)
		}

		// Rotation: a new value replaces it.
		form = v4
		form.Fields = map[string]string{"username": "robot$ci2", "password": "new-password"}
		v5, err := f.cat.Update(ctx, form)
		if err != nil {
			t.Fatal(err)
		}
		if got := stored().Fields["password"]; got != "new-password" || v5.Version != 4 {
			t.Fatalf("rotation: password %q version %d", got, v5.Version)
		}

		// A stale version is refused and changes nothing.
		stale := v4
		stale.Fields = map[string]string{"username": "robot$ci2", "password": "stale-password"}
		_, err = f.cat.Update(ctx, stale)
		if !errors.Is(err, registry.ErrConflict) || !strings.Contains(err.Error(), "reload and retry") {
			t.Fatalf("stale update = %v, want ErrConflict saying reload and retry", err)
		}
		if got := stored(); got.Fields["password"] != "new-password" || got.Version != 4 {
			t.Fatalf("a stale update changed the record: version %d", got.Version)
		}

		// Owner and Created cannot change.
		form = v5
		form.Owner, form.Created = "mallory", time.Time{}
		v6, err := f.cat.Update(ctx, form)
		if err != nil {
			t.Fatal(err)
		}
		if v6.Owner != "alice" || !v6.Created.Equal(added.Created) {
			t.Fatalf("owner/created changed: %q %v", v6.Owner, v6.Created)
		}

		// Invalid changes are refused with the field.
		form = v6
		form.Server = "https://harbor.example.com:99999"
		var fe *registry.FieldError
		if _, err := f.cat.Update(ctx, form); !errors.As(err, &fe) || fe.Field != "url" {
			t.Fatalf("invalid update = %v", err)
		}
		if _, err := f.cat.Update(ctx, registry.Registry{ID: "nope", Version: 1}); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("update of a missing record = %v", err)
		}
	})
}

func TestCatalogUpdateKindChange(t *testing.T) {
	ctx := context.Background()
	f := newCatFixture(t, memory.New())
	added, _ := f.cat.Add(ctx, catHarbor("r", "r.example.com", "harbor-password"))

	// The redacted password of the old kind cannot carry over.
	form := added
	form.Kind = registry.KindCustom
	_, err := f.cat.Update(ctx, form)
	var fe *registry.FieldError
	if !errors.As(err, &fe) || fe.Field != "password" || !strings.Contains(fe.Reason, "type changes") {
		t.Fatalf("kind change with a redacted secret = %v", err)
	}
	// Empty is not kept either: the new kind's rules apply to what is sent.
	form.Fields = map[string]string{"username": "u"}
	if _, err := f.cat.Update(ctx, form); !errors.As(err, &fe) || fe.Field != "password" {
		t.Fatalf("kind change without the password = %v", err)
	}
	form.Kind = registry.KindGHCR
	form.Server = ""
	form.Fields = map[string]string{"username": "octocat", "token": "ghp_new"}
	got, err := f.cat.Update(ctx, form)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := f.store.Get(ctx, got.ID)
	if diff := cmp.Diff(map[string]string{"username": "octocat", "token": "ghp_new"}, stored.Fields); diff != "" {
		t.Fatalf("fields after the kind change (-want +got):\n%s", diff)
	}
}

// Two racing updates made from the same version: exactly one wins, through one Catalog
// and through two Catalogs sharing a store.
func TestCatalogConcurrentUpdates(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("two catalogs=%v", shared), func(t *testing.T) {
			forEachStore(t, func(t *testing.T, s registry.Store) {
				ctx := context.Background()
				f := newCatFixture(t, s)
				other := f.cat
				if shared {
					other = newCatFixture(t, s).cat
				}
				added, err := f.cat.Add(ctx, catHarbor("h", "h.example.com", "p0"))
				if err != nil {
					t.Fatal(err)
				}
				for round := range 20 {
					cur, _ := f.cat.Get(ctx, added.ID)
					var wins, conflicts atomic.Int32
					var wg sync.WaitGroup
					start := make(chan struct{})
					for i, c := range []*catalog.Catalog{f.cat, other} {
						wg.Add(1)
						go func() {
							defer wg.Done()
							form := cur.Clone()
							form.Fields["password"] = fmt.Sprintf("p-%d-%d", round, i)
							<-start
							_, err := c.Update(ctx, form)
							switch {
							case err == nil:
								wins.Add(1)
							case errors.Is(err, registry.ErrConflict):
								conflicts.Add(1)
							default:
								t.Error(err)
							}
						}()
					}
					close(start)
					wg.Wait()
					if wins.Load() != 1 || conflicts.Load() != 1 {
						t.Fatalf("round %d: wins=%d conflicts=%d", round, wins.Load(), conflicts.Load())
					}
					now, _ := f.cat.Get(ctx, added.ID)
					if now.Version != cur.Version+1 {
						t.Fatalf("round %d: version %d after %d", round, now.Version, cur.Version)
					}
				}
			})
		})
	}
}

func TestCatalogGetListRedacted(t *testing.T) {
	ctx := context.Background()
	f := newCatFixture(t, memory.New())
	for _, r := range []registry.Registry{
		catHarbor("zeta", "z.example.com", "secret-z"),
		catHarbor("alpha", "a.example.com", "secret-a1"),
		catHarbor("alpha", "a2.example.com", "secret-a2"),
		{Name: "gcr", Kind: registry.KindGCR, Fields: map[string]string{"serviceAccountKey": regcredtest.NewGoogle(t).Key("puller@demo.iam.gserviceaccount.com")}},
	} {
		if _, err := f.cat.Add(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	list, err := f.cat.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range list {
		order = append(order, r.Name+"/"+r.ID)
		for k, v := range r.Fields {
			if r.IsSecretField(k) && v != registry.Redacted {
				t.Errorf("List: %s field %s = %q, not redacted", r.Name, k, v)
			}
		}
	}
	want := []string{"alpha/reg-002", "alpha/reg-003", "gcr/reg-004", "zeta/reg-001"}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Fatalf("List order (-want +got):\n%s", diff)
	}
	g, err := f.cat.Get(ctx, "reg-004")
	if err != nil || g.Fields["serviceAccountKey"] != registry.Redacted {
		t.Fatalf("Get = %v, %v", g.Fields, err)
	}
	if _, err := f.cat.Get(ctx, "nope"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("Get(nope) = %v", err)
	}
}

func TestCatalogDelete(t *testing.T) {
	forEachStore(t, func(t *testing.T, s registry.Store) {
		ctx := catalog.WithPrincipal(context.Background(), catalog.Principal{User: "alice"})
		bob := catalog.WithPrincipal(context.Background(), catalog.Principal{User: "bob"})
		admin := catalog.WithPrincipal(context.Background(), catalog.Principal{User: "root", Roles: []string{catalog.RoleAdmin}})
		f := newCatFixture(t, s, catalog.WithAuthorizer(catalog.DefaultPolicy()))
		r, _ := f.cat.Add(ctx, catHarbor("h", "h.example.com", "p"))
		ownerless, err := catalog.New(s).Add(context.Background(), registry.Registry{Name: "pub", Kind: registry.KindPublic})
		if err != nil {
			t.Fatal(err)
		}
		f.cat.Invalidate()

		// Not the owner.
		err = f.cat.Delete(bob, r.ID)
		var fe *catalog.ForbiddenError
		if !errors.Is(err, registry.ErrForbidden) || !errors.Is(err, registry.ErrNotOwner) || !errors.As(err, &fe) || fe.Action != catalog.ActionDelete {
			t.Fatalf("Delete by bob = %v, want a *ForbiddenError for delete", err)
		}
		// In use: the error lists the references.
		f.mu.Lock()
		f.usage[r.ID] = []string{"project/web", "project/api"}
		f.mu.Unlock()
		err = f.cat.Delete(ctx, r.ID)
		var inUse *catalog.InUseError
		if !errors.Is(err, registry.ErrInUse) || !errors.As(err, &inUse) {
			t.Fatalf("Delete while in use = %v, want *InUseError", err)
		}
		if diff := cmp.Diff(&catalog.InUseError{Registry: "h", Refs: []string{"project/api", "project/web"}}, inUse); diff != "" {
			t.Fatalf("InUseError (-want +got):\n%s", diff)
		}
		if msg := err.Error(); !strings.Contains(msg, "project/api, project/web") {
			t.Fatalf("message %q does not list the references", msg)
		}
		// The usage hook fails: nothing is deleted.
		f.mu.Lock()
		f.usage[r.ID] = nil
		f.mu.Unlock()
		if err := f.cat.Delete(ctx, r.ID); err == nil || errors.Is(err, registry.ErrInUse) {
			t.Fatalf("Delete with a failing usage hook = %v", err)
		}
		if _, err := f.cat.Get(ctx, r.ID); err != nil {
			t.Fatalf("the record is gone after a refused delete: %v", err)
		}
		// No longer in use: the owner deletes it.
		f.mu.Lock()
		delete(f.usage, r.ID)
		f.mu.Unlock()
		if err := f.cat.Delete(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.cat.Get(ctx, r.ID); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("Get after delete = %v", err)
		}
		if err := f.cat.Delete(ctx, r.ID); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("second delete = %v", err)
		}
		// A record without an owner is the admins'.
		if err := f.cat.Delete(bob, ownerless.ID); !errors.Is(err, registry.ErrForbidden) {
			t.Fatalf("Delete of an ownerless record by bob = %v, want ErrForbidden", err)
		}
		if err := f.cat.Delete(admin, ownerless.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestInUseErrorMessage(t *testing.T) {
	refs := make([]string, 12)
	for i := range refs {
		refs[i] = fmt.Sprintf("svc-%02d", i)
	}
	tests := []struct {
		err  *catalog.InUseError
		want string
	}{
		{&catalog.InUseError{Registry: "h", Refs: []string{"a"}}, "delete h: in use by 1 reference: a (remove them from it first)"},
		{&catalog.InUseError{Registry: "h", Refs: refs}, "delete h: in use by 12 references: svc-00, svc-01, svc-02, svc-03, svc-04, svc-05, svc-06, svc-07, svc-08, svc-09 and 2 more (remove them from it first)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant      %q", got, tt.want)
		}
	}
}

func TestCatalogKeychain(t *testing.T) {
	ctx := context.Background()
	var built atomic.Int32
	factory := func(r registry.Registry) (registry.Provider, error) {
		built.Add(1)
		p, err := fixture.Factory(r)
		return &identifiedProvider{Provider: p}, err // a pointer: each build is a distinct value
	}
	// A store without a change feed: the Catalog knows only its own writes, and Invalidate.
	f := newCatFixture(t, plainStore{memory.New()}, catalog.WithProviderFactory(factory))
	a, _ := f.cat.Add(ctx, catHarbor("a", "a.example.com", "pw-a"))

	kc1, err := f.cat.Keychain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kc2, _ := f.cat.Keychain(ctx)
	if kc1 != kc2 || built.Load() != 1 {
		t.Fatalf("Keychain was rebuilt without a change (providers built %d)", built.Load())
	}
	// The keychain uses the full record: the provider sees the real password.
	p, _ := kc1.Provider(a.ID)
	var seen registry.Registry
	f2 := catalog.New(f.store, catalog.WithProviderFactory(func(r registry.Registry) (registry.Provider, error) {
		seen = r
		return registry.Anonymous(), nil
	}))
	if _, err := f2.Keychain(ctx); err != nil {
		t.Fatal(err)
	}
	if seen.Fields["password"] != "pw-a" {
		t.Fatalf("the factory got %q, want the real password", seen.Fields["password"])
	}
	if p == nil {
		t.Fatal("no provider")
	}

	// A change rebuilds; the unchanged record keeps its provider.
	b, _ := f.cat.Add(ctx, catHarbor("b", "b.example.com", "pw-b"))
	kc3, _ := f.cat.Keychain(ctx)
	if kc3 == kc1 {
		t.Fatal("Keychain not rebuilt after Add")
	}
	if m, ok := kc3.Match("b.example.com/x"); !ok || m.ID != b.ID {
		t.Fatalf("new registry not in the rebuilt keychain: %v", m.ID)
	}
	if p3, _ := kc3.Provider(a.ID); p3 != p {
		t.Fatal("an unchanged record's provider was rebuilt")
	}
	if built.Load() != 2 {
		t.Fatalf("providers built %d times, want 2", built.Load())
	}
	// Rotation replaces the provider.
	a, _ = f.cat.Get(ctx, a.ID)
	a.Fields["password"] = "pw-a2"
	if _, err := f.cat.Update(ctx, a); err != nil {
		t.Fatal(err)
	}
	kc4, _ := f.cat.Keychain(ctx)
	auth, _ := kc4.Resolve(name.MustParseReference("a.example.com/app").Context())
	cfg, _ := auth.Authorization()
	if cfg.Username != "user-"+a.ID {
		t.Fatalf("resolved %q", cfg.Username)
	}
	if p4, _ := kc4.Provider(a.ID); p4 == p {
		t.Fatal("the rotated record kept its old provider")
	}
	// Delete drops it from the keychain.
	if err := f.cat.Delete(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	kc5, _ := f.cat.Keychain(ctx)
	if _, ok := kc5.Match("b.example.com/x"); ok {
		t.Fatal("deleted registry still matches")
	}
	// A store changed behind the catalog's back shows after Invalidate.
	r := catHarbor("c", "c.example.com", "p")
	r.ID, r.Version = "external", 1
	if err := f.store.Put(ctx, r); err != nil {
		t.Fatal(err)
	}
	if kc, _ := f.cat.Keychain(ctx); kc != kc5 {
		t.Fatal("rebuilt without a change through the catalog")
	}
	f.cat.Invalidate()
	if kc, _ := f.cat.Keychain(ctx); func() bool { _, ok := kc.Match("c.example.com/x"); return !ok }() {
		t.Fatal("Invalidate did not rebuild")
	}
}

func TestCatalogKeychainConcurrent(t *testing.T) {
	ctx := context.Background()
	f := newCatFixture(t, memory.New())
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 10 {
				r := catHarbor(fmt.Sprintf("r%d-%d", i, j), fmt.Sprintf("r%d-%d.example.com", i, j), "p")
				r.Default = true // each add takes the default from the others
				if _, err := f.cat.Add(ctx, r); err != nil {
					t.Error(err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 10 {
				kc, err := f.cat.Keychain(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				kc.Match("r0-0.example.com/x")
			}
		}()
	}
	wg.Wait()
	kc, _ := f.cat.Keychain(ctx)
	if n := len(kc.Registries()); n != 40 {
		t.Fatalf("final keychain has %d registries, want 40", n)
	}
	if d := catDefaults(t, f.cat); len(d) != 1 {
		t.Fatalf("defaults = %v, want exactly one", d)
	}
}

func TestCatalogKeychainError(t *testing.T) {
	ctx := context.Background()
	cat := catalog.New(memory.New())
	if _, err := cat.Add(ctx, registry.Registry{Name: "ecr", Kind: registry.KindECR, Fields: map[string]string{"region": "eu-west-1"}}); err != nil {
		t.Fatal(err)
	}
	_, err := cat.Keychain(ctx)
	var e *registry.Error
	if !errors.As(err, &e) || e.Registry != "ecr" {
		t.Fatalf("Keychain with a token kind and the static factory = %v, want an error naming ecr", err)
	}
}

func TestCatalogDefaultIDs(t *testing.T) {
	ctx := context.Background()
	cat := catalog.New(memory.New())
	seen := map[string]bool{}
	for i := range 5 {
		r, err := cat.Add(ctx, registry.Registry{Name: fmt.Sprint(i), Kind: registry.KindPublic})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r.ID, "reg-") || len(r.ID) != len("reg-")+16 || seen[r.ID] {
			t.Fatalf("id %q", r.ID)
		}
		seen[r.ID] = true
		if r.Created.Location() != time.UTC || time.Since(r.Created) > time.Hour {
			t.Fatalf("created %v", r.Created)
		}
	}
}

func TestCatalogOverFileStoreSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registries.json")
	s, _ := file.New(path)
	f := newCatFixture(t, s)
	ra := catHarbor("a", "a.example.com", "pw-a")
	ra.Default = true
	a, _ := f.cat.Add(ctx, ra)
	a.Name = "renamed"
	if _, err := f.cat.Update(ctx, a); err != nil {
		t.Fatal(err)
	}
	s2, err := file.New(path)
	if err != nil {
		t.Fatal(err)
	}
	cat2 := catalog.New(s2, catalog.WithProviderFactory(fixture.Factory))
	got, err := cat2.Get(ctx, a.ID)
	if err != nil || got.Name != "renamed" || got.Version != 2 || !got.Default {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	_, cred, err := func() (registry.Registry, registry.Credentials, error) {
		kc, err := cat2.Keychain(ctx)
		if err != nil {
			return registry.Registry{}, registry.Credentials{}, err
		}
		p, _ := kc.Provider(a.ID)
		c, err := p.Credentials(ctx)
		return registry.Registry{}, c, err
	}()
	if err != nil || cred.Username != "user-"+a.ID {
		t.Fatalf("keychain after reopen: %v, %v", cred, err)
	}
}

type identifiedProvider struct{ registry.Provider }
