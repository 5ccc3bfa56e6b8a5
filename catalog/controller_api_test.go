package catalog_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

// signalStore tells when a Delete reached the store: the Catalog then retires the
// record's provider.
type signalStore struct {
	registry.Store
	deleted chan struct{}
}

func (s *signalStore) Delete(ctx context.Context, id string, version int64) error {
	err := s.Store.Delete(ctx, id, version)
	close(s.deleted)
	return err
}

// A write inside Use holds Delete back until it is released, and after Delete returns
// Use refuses the old provider: nothing writes a deleted record's credentials after
// Delete has returned. An Update retires the old version's provider the same way.
func TestUseFencesDeleteAndUpdate(t *testing.T) {
	ctx := context.Background()
	st := &signalStore{Store: memory.New(), deleted: make(chan struct{})}
	cat := catalog.New(st)
	r, err := cat.Add(ctx, registry.Registry{Name: "fenced", Kind: registry.KindCustom, Server: "fenced.example",
		Fields: map[string]string{"username": "u", "password": "p1"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := cat.Provider(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !cat.Current(r.ID, p) {
		t.Fatal("a fresh provider is not current")
	}
	if _, ok := cat.Use("another-id", p); ok {
		t.Fatal("Use accepted a provider for another registry")
	}
	if _, ok := cat.Use(r.ID, registry.Static(registry.Credentials{})); ok {
		t.Fatal("Use accepted a provider the Catalog did not hand out")
	}

	// Update: the old version's provider is retired once Update returns.
	cur, _ := cat.Get(ctx, r.ID)
	cur.Fields = map[string]string{"username": "u", "password": "p2"}
	if _, err := cat.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if _, ok := cat.Use(r.ID, p); ok {
		t.Fatal("the provider of the replaced version is still usable after Update returned")
	}

	// Delete waits for the write in flight.
	p2, err := cat.Provider(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	release, ok := cat.Use(r.ID, p2)
	if !ok {
		t.Fatal("Use refused the current provider")
	}
	var released atomic.Bool
	deleted := make(chan bool, 1) // whether the write had been released when Delete returned
	go func() {
		if err := cat.Delete(ctx, r.ID); err != nil {
			t.Error(err)
		}
		deleted <- released.Load()
	}()
	<-st.deleted // Delete is past the store, on its way to the fence
	select {
	case <-deleted:
		t.Fatal("Delete returned while a write was in flight")
	case <-time.After(100 * time.Millisecond): // a broken fence returns within microseconds
	}
	released.Store(true)
	release()
	select {
	case afterRelease := <-deleted:
		if !afterRelease {
			t.Fatal("Delete returned before the write in flight was released")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Delete did not return after the write was released")
	}
	if _, ok := cat.Use(r.ID, p2); ok || cat.Current(r.ID, p2) {
		t.Fatal("the deleted record's provider is still usable after Delete returned")
	}
}
