package sealed_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/sealed"
	"github.com/regcred/regcred/store/sqlite"
	"github.com/regcred/regcred/store/storetest"
)

// countingKeys counts the data keys unwrapped: each is a secret opened.
type countingKeys struct {
	sealed.KeyProvider
	unwraps atomic.Int64
}

func (k *countingKeys) UnwrapKey(ctx context.Context, keyID string, wrapped, aad []byte) ([]byte, error) {
	k.unwraps.Add(1)
	return k.KeyProvider.UnwrapKey(ctx, keyID, wrapped, aad)
}

// A redacted Catalog.List opens no secret: before ListRedacted it unwrapped every record's
// data key only to print REDACTED. It still sees every change made by another process on
// the same database at once: a rename, a rotation, a delete, an add.
func TestRedactedListOpensNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "r.db")
	key := make([]byte, 32)
	rand.Read(key)
	ring, err := sealed.NewKeyring("k1", map[string][]byte{"k1": key})
	if err != nil {
		t.Fatal(err)
	}
	keys := &countingKeys{KeyProvider: ring}
	open := func() *catalog.Catalog {
		inner, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		st, err := sealed.New(ctx, inner, keys)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return catalog.New(st)
	}
	a, b := open(), open() // two processes on one database
	var ids []string
	for i := range 20 {
		r, err := b.Add(ctx, registry.Registry{Name: fmt.Sprintf("r%02d", i), Kind: registry.KindCustom,
			Server: fmt.Sprintf("r%02d.example.com", i), Fields: map[string]string{"username": "ci", "password": fmt.Sprintf("secret-%02d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	list := func(want int) []registry.Registry {
		t.Helper()
		before := keys.unwraps.Load()
		l, err := a.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := keys.unwraps.Load() - before; n != 0 {
			t.Fatalf("List opened %d secrets, want 0", n)
		}
		if len(l) != want {
			t.Fatalf("List = %d records, want %d", len(l), want)
		}
		for _, r := range l {
			if !r.IsRedacted() || r.Kind == registry.KindCustom && r.Fields["password"] != registry.Redacted || strings.Contains(fmt.Sprint(r.Fields), "secret-") {
				t.Fatalf("listed %s: not a redacted view", r.Name)
			}
		}
		return l
	}
	list(20)
	list(20) // from the cache
	// Another process renames one, rotates one, deletes one and adds one.
	cur, _ := b.Get(ctx, ids[0])
	cur.Name = "renamed"
	if _, err := b.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	cur, _ = b.Get(ctx, ids[1])
	cur.Fields["password"] = "rotated"
	if _, err := b.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Add(ctx, registry.Registry{Name: "added", Kind: registry.KindPublic}); err != nil {
		t.Fatal(err)
	}
	l := list(20)
	names := map[string]int64{}
	for _, r := range l {
		names[r.Name] = r.Version
	}
	if _, ok := names["renamed"]; !ok || names["r01"] != 2 || names["added"] != 1 {
		t.Fatalf("after the other process's changes: %v", names)
	}
	if _, ok := names["r02"]; ok {
		t.Fatal("a deleted record is still listed")
	}
	// The listing is a copy: changing it changes nothing listed next.
	last := len(l) - 1 // r19: a custom registry with fields
	l[last].Fields["username"] = "mutated"
	if again := list(20); again[last].Fields["username"] == "mutated" {
		t.Fatal("List returned the cache itself")
	}
}

// The change log through the sealed store: the record sealed, its entry in the inner
// store's transaction.
func TestJournalThroughSealed(t *testing.T) {
	storetest.RunJournal(t, func(t *testing.T) registry.Store {
		inner, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "r.db"))
		if err != nil {
			t.Fatal(err)
		}
		key := make([]byte, 32)
		rand.Read(key)
		ring, _ := sealed.NewKeyring("k1", map[string][]byte{"k1": key})
		st, err := sealed.New(context.Background(), inner, ring)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}
