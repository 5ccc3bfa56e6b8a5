package file_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/store/file"
)

// BenchmarkFileStoreFeedLatency: a Put through one FileStore handle seen by a watcher on
// another (as another process would be), with the default poll interval as the fallback;
// p99 over the run, from before the Put (the write's own fsyncs included) and from its
// return.
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
	var lat, seen []time.Duration
	b.ResetTimer()
	for i := range b.N {
		r.Version = int64(i + 1)
		start := time.Now()
		if err := writer.Put(ctx, r); err != nil {
			b.Fatal(err)
		}
		written := time.Now()
		for c := range ch {
			if c.ID == "a" && c.Version == r.Version {
				break
			}
		}
		lat = append(lat, time.Since(start))
		seen = append(seen, time.Since(written))
	}
	b.StopTimer()
	slices.Sort(lat)
	slices.Sort(seen)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(seen[len(seen)*99/100].Microseconds())/1000, "p99-after-write-ms")
}
