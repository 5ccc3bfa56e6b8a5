package catalog_test

import (
	"context"
	"testing"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

// BenchmarkCatalogProvider: the shared provider of a record, as every consumer asks for
// it, against building one per call with the factory (what adapters did before).
func BenchmarkCatalogProvider(b *testing.B) {
	ctx := context.Background()
	cat := catalog.New(memory.New())
	defer cat.Close()
	r, err := cat.Add(ctx, catHarbor("h", "h.example.com", "pw"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("shared", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := cat.Provider(ctx, r.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	full, _ := cat.Reveal(ctx, r.ID)
	b.Run("factory per call", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := registry.StaticFactory(full); err != nil {
				b.Fatal(err)
			}
		}
	})
}
