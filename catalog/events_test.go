package catalog_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

// sharedStores gives two handles on one store: the same MemoryStore, and two FileStores
// on one file (as two processes would have).
func sharedStores(t *testing.T) map[string][2]registry.Store {
	m := memory.New()
	path := filepath.Join(t.TempDir(), "registries.json")
	return map[string][2]registry.Store{
		"memory": {m, m},
		"file":   {fixture.OpenFileStore(t, path), fixture.OpenFileStore(t, path)},
	}
}

// passwordFor resolves the credentials a pull of host would use through cat's Keychain.
func passwordFor(t *testing.T, cat *catalog.Catalog, host string) string {
	t.Helper()
	kc, err := cat.Keychain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := kc.Credentials(context.Background(), host+"/app")
	if err != nil {
		t.Fatal(err)
	}
	return c.Password.Reveal()
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A second Catalog on the same Store (another replica, another process) sees a rotation
// without Invalidate: its Keychain and its Provider serve the new password, and a deleted
// registry is gone from it.
func TestCatalogSeesOtherCatalogsRotation(t *testing.T) {
	for name, stores := range sharedStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a := catalog.New(stores[0])
			b := catalog.New(stores[1])
			t.Cleanup(func() { a.Close(); b.Close() })
			added, err := a.Add(ctx, catHarbor("h", "h.example.com", "pw-1"))
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, "b sees the new registry", func() bool {
				kc, _ := b.Keychain(ctx)
				_, ok := kc.Match("h.example.com/app")
				return ok
			})
			if got := passwordFor(t, b, "h.example.com"); got != "pw-1" {
				t.Fatalf("b resolves %q", got)
			}
			pb, err := b.Provider(ctx, added.ID)
			if err != nil {
				t.Fatal(err)
			}
			form := mustUnredact(added)
			form.Fields = map[string]string{"username": "robot$ci", "password": "pw-2"}
			if _, err := a.Update(ctx, form); err != nil {
				t.Fatal(err)
			}
			eventually(t, "b's keychain serves the rotated password", func() bool { return passwordFor(t, b, "h.example.com") == "pw-2" })
			eventually(t, "b's provider is the new version's", func() bool {
				p, err := b.Provider(ctx, added.ID)
				if err != nil || p == pb {
					return false
				}
				c, err := p.Credentials(ctx)
				return err == nil && c.Password.Reveal() == "pw-2"
			})
			if err := a.Delete(ctx, added.ID); err != nil {
				t.Fatal(err)
			}
			eventually(t, "b forgets the deleted registry", func() bool {
				kc, _ := b.Keychain(ctx)
				_, ok := kc.Match("h.example.com/app")
				return !ok
			})
		})
	}
}

type eventSeen struct {
	Op      catalog.EventOp
	ID      string
	Version int64
}

func nextEvents(t *testing.T, ch <-chan catalog.Event, n int) []eventSeen {
	t.Helper()
	var out []eventSeen
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("the subscription closed after %v", out)
			}
			if e.Op != catalog.EventDelete && e.Op != catalog.EventResync {
				if !e.Registry.IsRedacted() || e.Registry.ID != e.ID {
					t.Fatalf("event %+v carries a record that is not the redacted view of %s", e.Op, e.ID)
				}
				if pw := e.Registry.Fields["password"]; pw != "" && pw != registry.Redacted {
					t.Fatalf("an event carries a secret")
				}
			}
			out = append(out, eventSeen{e.Op, e.ID, e.Version})
		case <-timeout:
			t.Fatalf("got %v, want %d events", out, n)
		}
	}
	return out
}

// Subscribers hear every change, of this Catalog and of another on the same Store: add,
// update, rotate, default, delete.
func TestCatalogSubscribe(t *testing.T) {
	stores := sharedStores(t)
	stores["no feed"] = [2]registry.Store{plainStore{memory.New()}, nil}
	for name, st := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			f := newCatFixture(t, st[0])
			t.Cleanup(func() { f.cat.Close() })
			ctxSub, cancel := context.WithCancel(ctx)
			defer cancel()
			events := f.cat.Subscribe(ctxSub)
			a, _ := f.cat.Add(ctx, catHarbor("a", "a.example.com", "pw"))
			b, _ := f.cat.Add(ctx, catHarbor("b", "b.example.com", "pw"))
			form := a // the redacted view keeps the secret
			form.Name = "a-renamed"
			a, _ = f.cat.Update(ctx, form)
			form = a
			form.Fields["password"] = "pw-rotated"
			a, _ = f.cat.Update(ctx, form)
			if err := f.cat.SetDefault(ctx, b.ID); err != nil {
				t.Fatal(err)
			}
			if err := f.cat.Delete(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			want := []eventSeen{
				{catalog.EventAdd, "reg-001", 1},
				{catalog.EventAdd, "reg-002", 1},
				{catalog.EventUpdate, "reg-001", 2},
				{catalog.EventRotate, "reg-001", 3},
				{catalog.EventDefault, "reg-002", 2},
				{catalog.EventDelete, "reg-001", 3},
			}
			got := nextEvents(t, events, len(want))
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("events:\n got %v\nwant %v", got, want)
				}
			}
			if st[1] == nil {
				return
			}
			// Another Catalog's changes arrive too.
			other := catalog.New(st[1], catalog.WithIDs(func() string { return "other-1" }))
			t.Cleanup(func() { other.Close() })
			if _, err := other.Add(ctx, catHarbor("c", "c.example.com", "pw")); err != nil {
				t.Fatal(err)
			}
			if got := nextEvents(t, events, 1); got[0] != (eventSeen{catalog.EventAdd, "other-1", 1}) {
				t.Fatalf("another catalog's add: %v", got)
			}
			// Close ends the subscription.
			f.cat.Close()
			select {
			case _, open := <-events:
				if open {
					t.Fatal("an event after Close")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Close left the subscription open")
			}
		})
	}
}

// One provider per registry per process: every consumer of a Catalog gets the same
// Provider for a record version.
func TestCatalogSharesProviders(t *testing.T) {
	ctx := context.Background()
	built := 0
	f := newCatFixture(t, memory.New(), catalog.WithProviderFactory(func(r registry.Registry) (registry.Provider, error) {
		built++
		return fixture.Factory(r)
	}))
	t.Cleanup(func() { f.cat.Close() })
	added, _ := f.cat.Add(ctx, catHarbor("h", "h.example.com", "pw"))
	p1, err := f.cat.Provider(ctx, added.ID)
	if err != nil {
		t.Fatal(err)
	}
	kc, _ := f.cat.Keychain(ctx)
	p2, _ := kc.Provider(added.ID)
	p3, err := f.cat.ProviderFactory()(added) // the redacted view, as an adapter gets it from List
	if err != nil {
		t.Fatal(err)
	}
	if p1 != p2 || p1 != p3 || built != 1 {
		t.Fatalf("consumers got different providers (built %d)", built)
	}
	if _, err := f.cat.ProviderFactory()(catHarbor("unsaved", "u.example.com", "pw").Redacted()); err == nil {
		t.Fatal("the factory made a provider from an unsaved redacted record")
	}
}

// feedStore is a memory.Store whose change feed the test drives: each Watch gets a new
// channel, handed to the test.
type feedStore struct {
	*memory.Store
	feeds chan chan registry.Change
}

func (s *feedStore) Watch(ctx context.Context) (<-chan registry.Change, error) {
	ch := make(chan registry.Change, 16)
	s.feeds <- ch
	return ch, nil
}

// A ChangeResync makes the Catalog reload and report what changed; a feed that ends is
// opened again after a back-off (on the Catalog's clock), followed by a resync.
func TestCatalogResyncAndRewatch(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	st := &feedStore{Store: memory.New(), feeds: make(chan chan registry.Change, 4)}
	cat := catalog.New(st, catalog.WithClock(clk))
	t.Cleanup(func() { cat.Close() })
	events := cat.Subscribe(ctx)
	feed := <-st.feeds
	// Another process writes; its feed entries are lost.
	a, b := catHarbor("a", "a.example.com", "pw"), catHarbor("b", "b.example.com", "pw")
	a.ID, a.Version, b.ID, b.Version = "a", 1, "b", 1
	st.Put(ctx, a)
	st.Put(ctx, b)
	feed <- registry.Change{Op: registry.ChangeResync}
	want := []eventSeen{{catalog.EventAdd, "a", 1}, {catalog.EventAdd, "b", 1}}
	if got := nextEvents(t, events, 2); !cmpEvents(got, want) {
		t.Fatalf("after a resync: %v, want %v", got, want)
	}
	if got := passwordFor(t, cat, "b.example.com"); got != "pw" {
		t.Fatalf("keychain: %q", got)
	}
	b.Version, b.Fields["password"] = 2, "pw-2"
	st.Put(ctx, b)
	st.Delete(ctx, "a", 0)
	close(feed)                                    // the feed ends (a dropped connection)
	if err := clk.BlockUntil(ctx, 1); err != nil { // the Catalog waits to retry
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	select {
	case <-st.feeds:
	case <-time.After(10 * time.Second):
		t.Fatal("the Catalog did not watch again after the back-off")
	}
	want = []eventSeen{{catalog.EventRotate, "b", 2}, {catalog.EventDelete, "a", 1}}
	if got := nextEvents(t, events, 2); !cmpEvents(got, want) {
		t.Fatalf("after the feed came back: %v, want %v", got, want)
	}
	if got := passwordFor(t, cat, "b.example.com"); got != "pw-2" {
		t.Fatalf("keychain after the resync: %q", got)
	}
}

func cmpEvents(a, b []eventSeen) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
