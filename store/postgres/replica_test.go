package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/sealed"
)

// Two replicas on one PostgreSQL database, each with its own Catalog: every change made
// through one Catalog is seen by the other's (its Subscribe events, and what it serves),
// plain and sealed.
func TestReplicasSeeEachOthersChanges(t *testing.T) {
	keys := sealed.GenerateKey("shared")
	for _, sealedStore := range []bool{false, true} {
		name := "plain"
		if sealedStore {
			name = "sealed"
		}
		t.Run(name, func(t *testing.T) {
			_, _, dsn := newDB(t)
			replica := func() registry.Store {
				var s registry.Store = open(t, dsn)
				if sealedStore {
					k, err := sealed.ParseKeys(keys)
					if err != nil {
						t.Fatal(err)
					}
					if s, err = sealed.New(context.Background(), s, k); err != nil {
						t.Fatal(err)
					}
				}
				return s
			}
			a, b := catalog.New(replica()), catalog.New(replica())
			defer a.Close()
			defer b.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			events := b.Subscribe(ctx)
			expect := func(op catalog.EventOp, id string) catalog.Event {
				t.Helper()
				for {
					select {
					case ev, ok := <-events:
						if !ok {
							t.Fatalf("B's subscription closed waiting for %s %s", op, id)
						}
						if ev.Op == op && ev.ID == id {
							return ev
						}
					case <-time.After(10 * time.Second):
						t.Fatalf("B's Catalog did not see %s %s within 10s", op, id)
					}
				}
			}
			r := registry.Registry{Name: "harbor", Kind: registry.KindCustom, Server: "harbor.example.com",
				Fields: map[string]string{"username": "robot", "password": "first"}}
			saved, err := a.Add(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			expect(catalog.EventAdd, saved.ID)
			if got, err := b.Reveal(ctx, saved.ID); err != nil || got.Fields["password"] != "first" {
				t.Fatalf("B reads %v", err)
			}
			// B's provider for the record is cached; the rotation through A must replace it.
			if _, err := b.Provider(ctx, saved.ID); err != nil {
				t.Fatal(err)
			}
			cur, err := a.Reveal(ctx, saved.ID)
			if err != nil {
				t.Fatal(err)
			}
			cur.Fields["password"] = "second"
			if _, err := a.Update(ctx, cur); err != nil {
				t.Fatal(err)
			}
			ev := expect(catalog.EventRotate, saved.ID)
			if ev.Registry.Fields["password"] != registry.Redacted {
				t.Fatalf("the event carries %q; want the redacted view", ev.Registry.Fields["password"])
			}
			p, err := b.Provider(ctx, saved.ID)
			if err != nil {
				t.Fatal(err)
			}
			creds, err := p.Credentials(ctx)
			if err != nil || creds.Password.Reveal() != "second" {
				t.Fatalf("B's provider serves the old secret after the rotation (%v)", err)
			}
			if err := a.Delete(ctx, saved.ID); err != nil {
				t.Fatal(err)
			}
			expect(catalog.EventDelete, saved.ID)
			if _, err := b.Provider(ctx, saved.ID); !errors.Is(err, registry.ErrNotFound) {
				t.Fatalf("B's provider after the delete: %v; want ErrNotFound", err)
			}
		})
	}
}
