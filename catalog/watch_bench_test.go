package catalog_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/file"
	"github.com/regcred/regcred/store/memory"
)

// BenchmarkFileStoreFeedLatency: a Put through one FileStore handle seen by a watcher on
// another (as another process would be), at the default poll interval; p99 over the run.
func BenchmarkFileStoreFeedLatency(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "registries.json")
	writer, err := file.New(path)
	if err != nil {
		b.Fatal(err)
	}
	watched, err := file.New(path)
	if err != nil {
		b.Fatal(err)
	}
	defer watched.Close()
	ch, err := watched.Watch(ctx)
	if err != nil {
		b.Fatal(err)
	}
	r := fixture.StoreRecord("a", 1)
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		r.Version = int64(i + 1)
		start := time.Now()
		if err := writer.Put(ctx, r); err != nil {
			b.Fatal(err)
		}
		for c := range ch {
			if c.ID == "a" && c.Version == r.Version {
				break
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

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
