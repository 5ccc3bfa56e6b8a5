package sealed_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/sealed"
	"github.com/regcred/regcred/store/sqlite"
)

// BenchmarkRedactedList: Catalog.List (redacted) of 1,000 records on the sealed SQLite
// store, as a settings page lists them. Warm: the same Catalog and store lists again (the
// data-key cache holds every key); Cold: a fresh process lists once (the first page view
// after a restart).
func BenchmarkRedactedList(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "r.db")
	key := make([]byte, 32)
	rand.Read(key)
	keys, err := sealed.NewKeyring("k1", map[string][]byte{"k1": key})
	if err != nil {
		b.Fatal(err)
	}
	open := func() (*sealed.Store, *catalog.Catalog) {
		inner, err := sqlite.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		st, err := sealed.New(ctx, inner, keys)
		if err != nil {
			b.Fatal(err)
		}
		return st, catalog.New(st)
	}
	st, _ := open()
	for i := range 1000 {
		if err := st.Put(ctx, registry.Registry{ID: fmt.Sprintf("reg-%04d", i), Version: 1, Name: fmt.Sprintf("r%04d", i), Kind: registry.KindCustom,
			Server: fmt.Sprintf("r%04d.example.com", i), Fields: map[string]string{"username": "ci", "password": fmt.Sprintf("secret-%d", i)}}); err != nil {
			b.Fatal(err)
		}
	}
	st.Close()
	b.Run("Warm", func(b *testing.B) {
		st, cat := open()
		defer st.Close()
		for b.Loop() {
			if l, err := cat.List(ctx); err != nil || len(l) != 1000 {
				b.Fatal(len(l), err)
			}
		}
	})
	b.Run("Cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			st, cat := open()
			b.StartTimer()
			if l, err := cat.List(ctx); err != nil || len(l) != 1000 {
				b.Fatal(len(l), err)
			}
			b.StopTimer()
			st.Close()
			b.StartTimer()
		}
	})
}
