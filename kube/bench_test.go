package kube_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

// The benchmarks run against the real kube-apiserver (etcd with --unsafe-no-fsync) with
// 1,000 namespaces, client QPS/Burst unthrottled in every arm:
//
//	go test -run '^$' -bench . -benchtime 3x ./kube/

const benchNamespaces = 1000

var bench struct {
	once sync.Once
	nss  []string
	seq  int
}

func benchSetup(b *testing.B) (*testenv.Kube, []string) {
	k := testenv.StartKube(b)
	bench.once.Do(func() { bench.nss = k.Namespaces(b, "bench", benchNamespaces) })
	if len(bench.nss) != benchNamespaces {
		b.Fatal("namespaces were not created")
	}
	return k, bench.nss
}

func nextID() string { bench.seq++; return fmt.Sprintf("bench%d", bench.seq) }

// BenchmarkInitialSync creates one registry's Secret in 1,000 namespaces: the Syncer's
// bounded fan-out against the loop a user would otherwise write (one Create after another).
// The rtt=5ms arms add 5 ms to every request in the client's transport, both arms alike, to
// show what the fan-out buys against an API server across a network rather than on the
// same two cores.
func BenchmarkInitialSync(b *testing.B) {
	k, nss := benchSetup(b)
	ctx := context.Background()
	for _, rtt := range []time.Duration{0, 5 * time.Millisecond} {
		for _, conc := range []int{16, 64} {
			b.Run(fmt.Sprintf("rtt=%v/syncer-concurrency-%d", rtt, conc), func(b *testing.B) {
				client, wc := delayedClient(b, k, rtt)
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					id := nextID()
					s := kube.NewSyncer(client, kube.WithConcurrency(conc), kube.WithManagedBy("regcred-"+id))
					regs := []registry.Registry{ghcr(id, "x")}
					before := wc.writes.Load()
					b.StartTimer()
					res, err := s.Sync(ctx, regs, nss)
					b.StopTimer()
					if err != nil || res.Err() != nil || res.Count(kube.Created) != benchNamespaces {
						b.Fatalf("sync: %v %v", err, res.Err())
					}
					b.ReportMetric(float64(wc.writes.Load()-before), "writes/op")
					b.StartTimer()
				}
			})
		}
		b.Run(fmt.Sprintf("rtt=%v/one-by-one-create", rtt), func(b *testing.B) {
			client, _ := delayedClient(b, k, rtt)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				reg := ghcr(nextID(), "x")
				b.StartTimer()
				for _, ns := range nss {
					s, err := kube.Build(ctx, ns, reg)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := client.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// delayedClient is countingClient with rtt added to every request.
func delayedClient(b *testing.B, k *testenv.Kube, rtt time.Duration) (kubernetes.Interface, *writeCounter) {
	cfg := k.AdminConfig()
	wc := &writeCounter{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		wc.rt = rt
		if rtt == 0 {
			return wc
		}
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			time.Sleep(rtt)
			return wc.RoundTrip(r)
		})
	})
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return c, wc
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// BenchmarkSteadyState is a pass over 1,000 namespaces whose Secrets are current: no write.
func BenchmarkSteadyState(b *testing.B) {
	k, nss := benchSetup(b)
	ctx := context.Background()
	client, wc := countingClient(b, k)
	id := nextID()
	s := kube.NewSyncer(client, kube.WithManagedBy("regcred-"+id))
	regs := []registry.Registry{ghcr(id, "x")}
	if _, err := s.Sync(ctx, regs, nss); err != nil {
		b.Fatal(err)
	}
	before := wc.writes.Load()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.Sync(ctx, regs, nss)
		if err != nil || res.Count(kube.Unchanged) != benchNamespaces {
			b.Fatalf("sync: %v", err)
		}
	}
	b.StopTimer()
	writes := wc.writes.Load() - before
	b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
	if writes != 0 {
		b.Fatalf("steady state sent %d writes", writes)
	}
}

// BenchmarkRotation rotates one of two registries: exactly 1,000 writes per pass.
func BenchmarkRotation(b *testing.B) {
	k, nss := benchSetup(b)
	ctx := context.Background()
	client, wc := countingClient(b, k)
	id, other := nextID(), nextID()
	s := kube.NewSyncer(client, kube.WithManagedBy("regcred-"+id))
	if _, err := s.Sync(ctx, []registry.Registry{ghcr(id, "p0"), ghcr(other, "o")}, nss); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		regs := []registry.Registry{ghcr(id, fmt.Sprintf("p%d", i+1)), ghcr(other, "o")}
		before := wc.writes.Load()
		res, err := s.Sync(ctx, regs, nss)
		if err != nil || res.Err() != nil {
			b.Fatalf("sync: %v %v", err, res.Err())
		}
		if w := wc.writes.Load() - before; w != benchNamespaces || res.Count(kube.Updated) != benchNamespaces {
			b.Fatalf("rotation sent %d writes (%d updated), want %d", w, res.Count(kube.Updated), benchNamespaces)
		}
	}
	b.ReportMetric(benchNamespaces, "writes/op")
}
