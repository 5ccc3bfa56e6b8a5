package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/file"
	"github.com/regcred/regcred/store/memory"
	"github.com/regcred/regcred/store/postgres"
	"github.com/regcred/regcred/store/sealed"
	"github.com/regcred/regcred/store/sqlite"
)

func TestMain(m *testing.M) { testenv.PostgresMain(m) }

func record(i int, version int64) registry.Registry {
	return registry.Registry{
		ID: fmt.Sprintf("reg-%05d", i), Name: fmt.Sprintf("registry %d", i), Kind: registry.KindCustom,
		Server: fmt.Sprintf("registry%d.example.com", i), Version: version, Owner: "admin",
		Fields:  map[string]string{"username": "robot$ci", "password": "s3cr3t-token-0123456789abcdef-" + fmt.Sprint(i)},
		Created: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Updated: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
	}
}

// fill puts n records into s.
func fill(b *testing.B, s registry.Store, n int) {
	b.Helper()
	ctx := context.Background()
	for i := range n {
		if err := s.Put(ctx, record(i, 1)); err != nil {
			b.Fatal(err)
		}
	}
}

// fileWith10k writes a FileStore file of n records directly (10,000 FileStore Puts would
// rewrite the file 10,000 times) and opens it.
func fileWith(b *testing.B, dir string, n int) *file.Store {
	b.Helper()
	var doc struct {
		Registries []json.RawMessage `json:"registries"`
	}
	for i := range n {
		raw, err := registry.MarshalStored(record(i, 1))
		if err != nil {
			b.Fatal(err)
		}
		doc.Registries = append(doc.Registries, raw)
	}
	data, _ := json.Marshal(doc)
	p := filepath.Join(dir, "registries.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		b.Fatal(err)
	}
	s, err := file.New(p)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// stores of 10,000 records, made once per process: the benchmark function runs several
// times with growing b.N.
var (
	tenK   = map[string]registry.Store{}
	tenKv  = map[string]int64{}
	tenKMu sync.Mutex
)

func tenThousand(b *testing.B, kind string) registry.Store {
	tenKMu.Lock()
	defer tenKMu.Unlock()
	if s, ok := tenK[kind]; ok {
		return s
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "regcred-bench-")
	if err != nil {
		b.Fatal(err)
	}
	var s registry.Store
	switch kind {
	case "FileStore":
		s = fileWith(b, dir, 10000)
	case "SQLite":
		st, err := sqlite.Open(ctx, filepath.Join(dir, "regcred.db"))
		if err != nil {
			b.Fatal(err)
		}
		fill(b, st, 10000)
		s = st
	case "PostgreSQL":
		pg := testenv.StartPostgres(b)
		db, err := pg.SQL("postgres", "CREATE DATABASE bench_put")
		_ = db
		if err != nil {
			b.Fatal(err)
		}
		st, err := postgres.Open(ctx, pg.DSN("bench_put"))
		if err != nil {
			b.Fatal(err)
		}
		fill(b, st, 10000)
		s = st
	}
	tenK[kind] = s
	tenKv[kind] = 1
	return s
}

// BenchmarkPutInto10k: one Put (an update of one record) into a store of 10,000 records.
func BenchmarkPutInto10k(b *testing.B) {
	for _, kind := range []string{"FileStore", "SQLite", "PostgreSQL"} {
		b.Run(kind, func(b *testing.B) {
			if kind == "PostgreSQL" && testenv.PostgresBin() == "" {
				testenv.Unavailable(b, "PostgreSQL", "apt-get install postgresql")
			}
			s := tenThousand(b, kind)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				tenKv[kind]++
				if err := s.Put(ctx, record(5000, tenKv[kind])); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkList1000: List of 1,000 records, plain and sealed, over a MemoryStore.
func BenchmarkList1000(b *testing.B) {
	ctx := context.Background()
	keys, err := sealed.ParseKeys(sealed.GenerateKey("bench"))
	if err != nil {
		b.Fatal(err)
	}
	plain := memory.New()
	fill(b, plain, 1000)
	inner := memory.New()
	sl, err := sealed.New(ctx, inner, keys)
	if err != nil {
		b.Fatal(err)
	}
	fill(b, sl, 1000)
	for _, tc := range []struct {
		name string
		s    registry.Store
	}{{"plain", plain}, {"sealed", sl}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				l, err := tc.s.List(ctx)
				if err != nil || len(l) != 1000 {
					b.Fatal(len(l), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/record")
		})
	}
	// The first read of each value in a process: no opened data key cached yet (a new
	// sealed.Store per List; its key check is counted too).
	b.Run("sealed-uncached", func(b *testing.B) {
		for b.Loop() {
			fresh, err := sealed.New(ctx, inner, keys)
			if err != nil {
				b.Fatal(err)
			}
			l, err := fresh.List(ctx)
			if err != nil || len(l) != 1000 {
				b.Fatal(len(l), err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/record")
	})
}

// watched is a writer and a watch channel on another handle of the same data.
type watched struct {
	write registry.Store
	feed  <-chan registry.Change
}

// BenchmarkFeedLatency: 100 updates through one Catalog, each timed until the other
// handle's feed delivers it; p99 reported.
func BenchmarkFeedLatency(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, kind := range []string{"SQLite", "PostgreSQL"} {
		b.Run(kind, func(b *testing.B) {
			var a, other registry.Store
			switch kind {
			case "SQLite":
				p := filepath.Join(b.TempDir(), "regcred.db")
				s1, err := sqlite.Open(ctx, p)
				if err != nil {
					b.Fatal(err)
				}
				defer s1.Close()
				s2, err := sqlite.Open(ctx, p)
				if err != nil {
					b.Fatal(err)
				}
				defer s2.Close()
				a, other = s1, s2
			case "PostgreSQL":
				pg := testenv.StartPostgres(b)
				dsn := pg.DSN(pg.Database(b, "bench_feed"))
				s1, err := postgres.Open(ctx, dsn)
				if err != nil {
					b.Fatal(err)
				}
				defer s1.Close()
				s2, err := postgres.Open(ctx, dsn)
				if err != nil {
					b.Fatal(err)
				}
				defer s2.Close()
				a, other = s1, s2
			}
			feed, err := other.(registry.Watcher).Watch(ctx)
			if err != nil {
				b.Fatal(err)
			}
			cat := catalog.New(a)
			r := record(1, 0)
			r.ID, r.Version = "", 0
			saved, err := cat.Add(ctx, r)
			if err != nil {
				b.Fatal(err)
			}
			<-feed
			var lat []time.Duration
			b.ResetTimer()
			for b.Loop() {
				lat = lat[:0]
				for range 100 {
					cur, err := a.Get(ctx, saved.ID)
					if err != nil {
						b.Fatal(err)
					}
					cur.Fields["password"] += "x"
					start := time.Now()
					up, err := cat.Update(ctx, cur)
					if err != nil {
						b.Fatal(err)
					}
					for c := range feed {
						if c.ID == saved.ID && c.Version == up.Version {
							break
						}
					}
					lat = append(lat, time.Since(start))
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[98].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(lat[49].Microseconds())/1000, "p50-ms")
		})
	}
}

// BenchmarkReseal10k: a re-seal pass over 10,000 records in a sealed SQLite store after a
// key rotation (each op rotates to the other key and moves every record).
func BenchmarkReseal10k(b *testing.B) {
	ctx := context.Background()
	k1, k2 := sealed.GenerateKey("one"), sealed.GenerateKey("two")
	inner, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "regcred.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer inner.Close()
	first, _ := sealed.ParseKeys(k1)
	s, err := sealed.New(ctx, inner, first)
	if err != nil {
		b.Fatal(err)
	}
	fill(b, s, 10000)
	rings := []string{k2 + "\n" + k1, k1 + "\n" + k2}
	i := 0
	b.ResetTimer()
	for b.Loop() {
		keys, _ := sealed.ParseKeys(rings[i%2])
		i++
		rotated, err := sealed.New(ctx, inner, keys)
		if err != nil {
			b.Fatal(err)
		}
		st, err := rotated.Reseal(ctx)
		if err != nil || st.Resealed != 10000 {
			b.Fatalf("%+v, %v", st, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/10000, "us/record")
}
