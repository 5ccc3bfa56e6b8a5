package controller_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regcred/regcred/catalog"
	fx "github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

// stallFactory makes the token endpoint of registries whose name starts with "stalled"
// take stall for every fetch (honouring the caller's context); the others answer at once.
func stallFactory(stall time.Duration) catalog.Option {
	return catalog.WithProviderFactory(func(r registry.Registry) (registry.Provider, error) {
		c, _ := registry.StaticCredentials(r)
		if !strings.HasPrefix(r.Name, "stalled") {
			return registry.Static(c), nil
		}
		return registry.ProviderFunc(func(ctx context.Context) (registry.Credentials, error) {
			select {
			case <-time.After(stall):
				return c, nil
			case <-ctx.Done():
				return registry.Credentials{}, ctx.Err()
			}
		}), nil
	})
}

// syncedNamespaces makes n selected namespaces and waits until every default
// ServiceAccount lists secret.
func syncedNamespaces(b *testing.B, f *fixture, prefix, secret string, n int) []string {
	b.Helper()
	sw := watchServiceAccounts(b, f, secret) // before the namespaces: no patch is missed
	nss := f.namespaces(b, prefix, n)
	for _, ns := range nss {
		fx.Eventually(b, 300*time.Second, "initial sync "+ns, func() error {
			if _, ok := sw.at(ns); !ok {
				return fmt.Errorf("not yet")
			}
			return nil
		})
	}
	return nss
}

// rotate saves a new password for r and returns it.
func rotate(b *testing.B, f *fixture, id, password string) {
	b.Helper()
	cur, err := f.cat.Get(context.Background(), id)
	if err != nil {
		b.Fatal(err)
	}
	cur.Fields = map[string]string{"username": "bot", "password": password}
	if _, err := f.cat.Update(context.Background(), cur); err != nil {
		b.Fatal(err)
	}
}

// untilAll waits until every namespace in nss has Secret name holding password, as the
// watch w reports it, and returns when the last one did.
func untilAll(b *testing.B, w watch.Interface, nss []string, name, password string) time.Time {
	b.Helper()
	done := map[string]bool{}
	timeout := time.After(120 * time.Second)
	var last time.Time
	for len(done) < len(nss) {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok || ev.Type == watch.Error {
				b.Fatalf("the watch of the Secrets ended: %v", ev.Object)
			}
			if s, ok := ev.Object.(*corev1.Secret); ok && s.Name == name && ev.Type == watch.Modified &&
				strings.Contains(string(s.Data[corev1.DockerConfigJsonKey]), `"password":"`+password+`"`) && !done[s.Namespace] {
				done[s.Namespace] = true
				last = time.Now()
			}
		case <-timeout:
			b.Fatalf("the rotation reached %d of %d namespaces in 120s", len(done), len(nss))
		}
	}
	return last
}

// BenchmarkRotationBesideStalledEndpoint: a rotation of one registry reaching every
// namespace (default 1,000) while another registry's token endpoint takes 10 s, side by
// side with the same rotation when no endpoint stalls. Goal: within 2 s in both arms (each
// registry is resolved on its own). Before, each event resolved every registry one after
// the other: the rotation waited for the stalled fetch.
func BenchmarkRotationBesideStalledEndpoint(b *testing.B) {
	const stall = 10 * time.Second
	f := newFixture(b, []catalog.Option{stallFactory(stall)})
	moving := f.add(b, custom("moving", "pw-0"))
	stalled := f.add(b, custom("stalled", "pw-s0"))
	name := kube.DefaultSecretName(moving)
	f.start(b)
	nss := syncedNamespaces(b, f, "bench-stall", kube.DefaultSecretName(stalled), benchNamespaces())
	seq := 0
	// No stall first: the stalled arm leaves its 10 s fetch in flight behind it.
	for _, arm := range []string{"no-stall", "stalled-endpoint"} {
		b.Run(arm, func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				seq++
				w := resumingWatch(b, f, "secrets", func(o *metav1.ListOptions) { o.LabelSelector = kube.LabelManagedBy + "=" + f.managedBy })
				if arm == "stalled-endpoint" {
					// The stalled registry rotated too: its new token takes 10 s to fetch.
					rotate(b, f, stalled.ID, fmt.Sprintf("pw-s%d", seq))
				}
				password := fmt.Sprintf("pw-%d", seq)
				start := time.Now()
				rotate(b, f, moving.ID, password)
				last := untilAll(b, w, nss, name, password)
				total += last.Sub(start)
				w.Stop()
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "seconds")
			b.ReportMetric(float64(len(nss)), "namespaces")
		})
	}
}

// BenchmarkWritesAfterDelete: a registry deleted (a) while its token is being fetched
// (500 ms) and (b) while its Secrets are being written to every namespace (default
// 1,000); the writes of its Secret that the API server accepted after Delete returned.
// Goal: 0 in both arms. Before: the fetched token went into most namespaces, pruned
// seconds later.
func BenchmarkWritesAfterDelete(b *testing.B) {
	f := newFixture(b, []catalog.Option{stallFactory(500 * time.Millisecond)})
	keeper := f.add(b, custom("keeper", "pw-k"))
	f.start(b)
	nss := syncedNamespaces(b, f, "bench-del", kube.DefaultSecretName(keeper), benchNamespaces())
	seq := 0
	for _, arm := range []string{"during-fetch", "during-writes"} {
		b.Run(arm, func(b *testing.B) {
			var after, before int64
			for i := 0; i < b.N; i++ {
				seq++
				kind := "stalled"
				if arm == "during-writes" {
					kind = "fast"
				}
				w := resumingWatch(b, f, "secrets", func(o *metav1.ListOptions) { o.LabelSelector = kube.LabelManagedBy + "=" + f.managedBy })
				r := f.add(b, custom(fmt.Sprintf("%s-del-%d", kind, seq), "pw-del"))
				name := kube.DefaultSecretName(r)
				if arm == "during-writes" {
					// Wait for its first Secret: the writes are under way.
					for first := false; !first; {
						ev, ok := <-w.ResultChan()
						if !ok || ev.Type == watch.Error {
							b.Fatalf("watch ended: %v", ev.Object)
						}
						s, _ := ev.Object.(*corev1.Secret)
						first = s != nil && s.Name == name
					}
				} else {
					time.Sleep(100 * time.Millisecond) // its 500 ms fetch is under way
				}
				if err := f.cat.Delete(context.Background(), r.ID); err != nil {
					b.Fatal(err)
				}
				// The resourceVersion the API server is at once Delete has returned:
				// any write of the registry's Secret above it came after.
				list, err := f.k.Client.CoreV1().Secrets("").List(context.Background(), metav1.ListOptions{Limit: 1})
				if err != nil {
					b.Fatal(err)
				}
				mark, _ := strconv.ParseInt(list.ResourceVersion, 10, 64)
				// Positive end: a later registry's Secret reached every namespace, and
				// the deleted one's Secrets are all pruned.
				later := f.add(b, custom(fmt.Sprintf("later-%d", seq), "pw-later"))
				var n, m int64
				pending := map[string]bool{}
				for _, ns := range nss {
					pending[ns] = true
				}
				timeout := time.After(120 * time.Second)
				for len(pending) > 0 {
					select {
					case ev, ok := <-w.ResultChan():
						if !ok || ev.Type == watch.Error {
							b.Fatalf("watch ended: %v", ev.Object)
						}
						s, _ := ev.Object.(*corev1.Secret)
						if s == nil {
							continue
						}
						rv, _ := strconv.ParseInt(s.ResourceVersion, 10, 64)
						switch {
						case s.Name == name && ev.Type != watch.Deleted && rv > mark:
							n++
						case s.Name == name && ev.Type != watch.Deleted:
							m++
						case s.Name == kube.DefaultSecretName(later):
							delete(pending, s.Namespace)
						}
					case <-timeout:
						b.Fatalf("the later registry reached %d of %d namespaces in 120s", len(nss)-len(pending), len(nss))
					}
				}
				after += n
				before += m
				w.Stop()
			}
			b.ReportMetric(float64(after)/float64(b.N), "writes-after-delete")
			b.ReportMetric(float64(before)/float64(b.N), "writes-before-delete")
			b.ReportMetric(float64(len(nss)), "namespaces")
		})
	}
}
