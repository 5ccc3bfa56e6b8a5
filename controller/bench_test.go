package controller_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/regcred/regcred/controller"
	fx "github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

// The benchmarks run against the real kube-apiserver and kube-controller-manager of
// testenv (etcd with --unsafe-no-fsync), one arm at a time:
//
//	go test -run '^$' -bench . -benchtime 1x ./controller/
//
// REGCRED_BENCH_NAMESPACES sets the namespace count of the rotation and initial-sync
// benchmarks (default 1000).

func benchNamespaces() int {
	if n, err := strconv.Atoi(os.Getenv("REGCRED_BENCH_NAMESPACES")); err == nil && n > 0 {
		return n
	}
	return 1000
}

// saWatch reports, per namespace, when its default ServiceAccount first listed secret.
type saWatch struct {
	mu   sync.Mutex
	seen map[string]time.Time
	w    watch.Interface
}

func watchServiceAccounts(b *testing.B, f *fixture, secret string) *saWatch {
	b.Helper()
	w := resumingWatch(b, f, "serviceaccounts", func(o *metav1.ListOptions) { o.FieldSelector = "metadata.name=default" })
	s := &saWatch{seen: map[string]time.Time{}, w: w}
	go func() {
		for ev := range w.ResultChan() {
			sa, ok := ev.Object.(*corev1.ServiceAccount)
			if !ok {
				continue
			}
			for _, r := range sa.ImagePullSecrets {
				if r.Name == secret {
					s.mu.Lock()
					if _, dup := s.seen[sa.Namespace]; !dup {
						s.seen[sa.Namespace] = time.Now()
					}
					s.mu.Unlock()
				}
			}
		}
	}()
	b.Cleanup(w.Stop)
	return s
}

// resumingWatch watches resource (cluster-wide, filtered by tweak) from now on. The API
// server closes a watch whose client falls behind (after about 250 ms under the load of
// 1,000 namespaces); client-go's RetryWatcher then watches again from the last
// resourceVersion it delivered, so no event is lost and the channel stays open.
func resumingWatch(b testing.TB, f *fixture, resource string, tweak func(*metav1.ListOptions)) watch.Interface {
	b.Helper()
	lw := cache.NewFilteredListWatchFromClient(f.k.Client.CoreV1().RESTClient(), resource, metav1.NamespaceAll, tweak)
	list, err := lw.List(metav1.ListOptions{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	lm, err := meta.ListAccessor(list)
	if err != nil {
		b.Fatal(err)
	}
	w, err := watchtools.NewRetryWatcher(lm.GetResourceVersion(), lw)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Stop)
	return w
}

// requestCounter counts the API requests a client sends, by method and resource (a
// watch is its own kind), so both arms of a comparison show what they cost the server.
type requestCounter struct {
	mu          sync.Mutex
	by          map[string]int
	first, last time.Time // the first write sent, the last write answered
	start       time.Time // the arm's clock started
}

func (rc *requestCounter) RoundTrip(next http.RoundTripper, req *http.Request) (*http.Response, error) {
	kind := req.Method
	if req.URL.Query().Get("watch") == "true" {
		kind = "WATCH"
	}
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	res := parts[len(parts)-1]
	for i, p := range parts {
		if p == "namespaces" && i+2 < len(parts) {
			res = parts[i+2] // namespaces/NS/RESOURCE[/NAME]
		}
	}
	write := kind == http.MethodPost || kind == http.MethodPut || kind == http.MethodPatch
	rc.mu.Lock()
	rc.by[kind+" "+res]++
	if write && rc.first.IsZero() {
		rc.first = time.Now()
	}
	rc.mu.Unlock()
	resp, err := next.RoundTrip(req)
	if write {
		rc.mu.Lock()
		rc.last = time.Now()
		rc.mu.Unlock()
	}
	return resp, err
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// countingClient is an admin clientset whose requests rc counts.
func countingClient(b *testing.B, f *fixture) (kubernetes.Interface, *requestCounter) {
	b.Helper()
	rc := &requestCounter{by: map[string]int{}}
	cfg := f.k.AdminConfig()
	if os.Getenv("REGCRED_BENCH_JSON") == "" {
		// Protobuf, as kube-controller-manager's clients speak (its
		// --kube-api-content-type default) and a controller's should.
		cfg.ContentType = runtime.ContentTypeProtobuf
		cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	}
	cfg.WrapTransport = func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) { return rc.RoundTrip(next, r) })
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return c, rc
}

// report logs the requests by kind and returns their total.
func (rc *requestCounter) report(b *testing.B, arm string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	keys := make([]string, 0, len(rc.by))
	total := 0
	for k, v := range rc.by {
		keys = append(keys, fmt.Sprintf("%s=%d", k, v))
		total += v
	}
	slices.Sort(keys)
	b.Logf("%s: %d requests: %s; first write after %v, writes for %v", arm, total, strings.Join(keys, " "), rc.first.Sub(rc.start), rc.last.Sub(rc.first))
	return total
}

func (s *saWatch) at(ns string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.seen[ns]
	return t, ok
}

// last waits until the ServiceAccount of every namespace in nss listed the Secret and
// returns when the watch saw the last of them (not when a poll noticed).
func (s *saWatch) last(b *testing.B, nss []string) time.Time {
	b.Helper()
	var end time.Time
	fx.Eventually(b, 300*time.Second, "every serviceaccount listing the secret", func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		end = time.Time{}
		for _, ns := range nss {
			t, ok := s.seen[ns]
			if !ok {
				return fmt.Errorf("%s not yet", ns)
			}
			if t.After(end) {
				end = t
			}
		}
		return nil
	})
	return end
}

func p99(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[(len(ds)*99+99)/100-1]
}

// BenchmarkNewNamespace: 100 namespaces created at a steady rate (one per 50 ms); the time
// from each Create to its default ServiceAccount listing the pull Secret (which implies
// the Secret exists: the controller writes it first). The kube-controller-manager making
// the ServiceAccount is part of the path, as in a cluster.
func BenchmarkNewNamespace(b *testing.B) {
	f := newFixture(b, nil)
	r := f.add(b, custom("bench-new", "pw"))
	name := kube.DefaultSecretName(r)
	f.start(b)
	sw := watchServiceAccounts(b, f, name)
	const n = 100
	var all []time.Duration
	for i := 0; i < b.N; i++ {
		created := map[string]time.Time{}
		for j := 0; j < n; j++ {
			ns := fmt.Sprintf("bench-new-%s-%d-%d", f.val, i, j)
			created[ns] = time.Now()
			if _, err := f.k.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{f.key: f.val}}}, metav1.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		for ns, t0 := range created {
			fx.Eventually(b, 30*time.Second, "patched "+ns, func() error {
				if _, ok := sw.at(ns); !ok {
					return fmt.Errorf("not yet")
				}
				return nil
			})
			t1, _ := sw.at(ns)
			all = append(all, t1.Sub(t0))
		}
	}
	b.ReportMetric(float64(p99(all).Milliseconds()), "p99-ms")
	b.ReportMetric(float64(slices.Max(all).Milliseconds()), "max-ms")
}

// BenchmarkDriftRepair: the managed Secret of 100 synced namespaces deleted one by one at a
// steady rate (one per 20 ms); the time from each Delete to the Secret being back.
func BenchmarkDriftRepair(b *testing.B) {
	f := newFixture(b, nil)
	r := f.add(b, custom("bench-drift", "pw"))
	name := kube.DefaultSecretName(r)
	f.start(b)
	const n = 100
	sw := watchServiceAccounts(b, f, name) // before the namespaces: no patch is missed
	nss := f.namespaces(b, "bench-drift", n)
	for _, ns := range nss {
		fx.Eventually(b, 60*time.Second, "initial sync "+ns, func() error {
			if _, ok := sw.at(ns); !ok {
				return fmt.Errorf("not yet")
			}
			return nil
		})
	}
	w := resumingWatch(b, f, "secrets", func(o *metav1.ListOptions) { o.LabelSelector = kube.LabelManagedBy + "=" + f.managedBy })
	var mu sync.Mutex
	back := map[string]time.Time{}
	go func() {
		for ev := range w.ResultChan() {
			if s, ok := ev.Object.(*corev1.Secret); ok && ev.Type == watch.Added {
				mu.Lock()
				back[s.Namespace] = time.Now()
				mu.Unlock()
			}
		}
	}()
	var all []time.Duration
	for i := 0; i < b.N; i++ {
		deleted := map[string]time.Time{}
		for _, ns := range nss {
			mu.Lock()
			delete(back, ns)
			mu.Unlock()
			deleted[ns] = time.Now()
			if err := f.k.Client.CoreV1().Secrets(ns).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
				b.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		for ns, t0 := range deleted {
			var t1 time.Time
			fx.Eventually(b, 30*time.Second, "restored "+ns, func() error {
				mu.Lock()
				defer mu.Unlock()
				t, ok := back[ns]
				if !ok || t.Before(t0) {
					return fmt.Errorf("not yet")
				}
				t1 = t
				return nil
			})
			all = append(all, t1.Sub(t0))
		}
	}
	b.ReportMetric(float64(p99(all).Milliseconds()), "p99-ms")
	b.ReportMetric(float64(slices.Max(all).Milliseconds()), "max-ms")
}

// BenchmarkRotation: one credential rotation reaching every namespace (default 1,000); the
// time from Catalog.Update to the last Secret holding the new password, and the deletes
// sent (in place: none).
func BenchmarkRotation(b *testing.B) {
	f := newFixture(b, nil)
	r := f.add(b, custom("bench-rot", "pw-0"))
	name := kube.DefaultSecretName(r)
	f.start(b)
	n := benchNamespaces()
	sw := watchServiceAccounts(b, f, name) // before the namespaces: no patch is missed
	nss := f.namespaces(b, "bench-rot", n)
	for _, ns := range nss {
		fx.Eventually(b, 300*time.Second, "initial sync "+ns, func() error {
			if _, ok := sw.at(ns); !ok {
				return fmt.Errorf("not yet")
			}
			return nil
		})
	}
	h := f.ctrl.Handler()
	deletes0 := metric(b, h, `regcred_controller_writes_total{resource="secret",verb="delete"}`)
	var total time.Duration
	for i := 0; i < b.N; i++ {
		password := fmt.Sprintf("pw-%d", i+1)
		w := resumingWatch(b, f, "secrets", func(o *metav1.ListOptions) { o.LabelSelector = kube.LabelManagedBy + "=" + f.managedBy })
		cur, err := f.cat.Get(context.Background(), r.ID)
		if err != nil {
			b.Fatal(err)
		}
		cur.Fields = map[string]string{"username": "bot", "password": password}
		start := time.Now()
		if _, err := f.cat.Update(context.Background(), cur); err != nil {
			b.Fatal(err)
		}
		done := map[string]bool{}
		timeout := time.After(120 * time.Second)
		for len(done) < n {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok || ev.Type == watch.Error {
					b.Fatalf("the watch of the Secrets ended: %v", ev.Object)
				}
				if s, ok := ev.Object.(*corev1.Secret); ok && ev.Type == watch.Modified &&
					strings.Contains(string(s.Data[corev1.DockerConfigJsonKey]), `"password":"`+password+`"`) {
					done[s.Namespace] = true
				}
			case <-timeout:
				b.Fatalf("rotation reached %d of %d namespaces in 120s", len(done), n)
			}
		}
		total += time.Since(start)
		w.Stop()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "seconds")
	b.ReportMetric(metric(b, h, `regcred_controller_writes_total{resource="secret",verb="delete"}`)-deletes0, "deletes")
	b.ReportMetric(float64(n), "namespaces")
}

// BenchmarkInitialSync: a controller starting over N namespaces (default 1,000) with their
// default ServiceAccounts, until every Secret is created and every ServiceAccount patched,
// beside the floor: the same writes (N Secret creates, N ServiceAccount updates) sent in
// raw parallel by the same number of goroutines with no logic.
//
// The arms are held to the same terms: the same client (protobuf, as kube-controller-
// manager's; REGCRED_BENCH_JSON=1 for JSON), the same concurrency (DefaultWorkers), the same
// Secret (the floor copies the one the controller wrote: labels, annotations, data), the
// same end (a watch seeing the last ServiceAccount list the Secret; it costs the API
// server the same in both), and the floor's ServiceAccounts are read before its clock
// starts, as the controller's come from its cache. Both report the requests they sent
// (requests/ns, by kind in the log): the controller's are its 2 writes per namespace and
// its informers' lists and watches, nothing more. On 2 cores the arms vary by 10-20%
// from run to run; compare several runs (-count).
func BenchmarkInitialSync(b *testing.B) {
	n := benchNamespaces()
	f := newFixture(b, nil)
	nss := f.namespaces(b, "bench-init", n)
	for _, ns := range nss {
		fx.Eventually(b, 300*time.Second, "default serviceaccount in "+ns, func() error {
			_, err := f.k.Client.CoreV1().ServiceAccounts(ns).Get(context.Background(), "default", metav1.GetOptions{})
			return err
		})
	}
	seq := 0
	var written *corev1.Secret // a Secret the controller wrote: the floor writes its like
	b.Run("controller", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			seq++
			// A fresh controller and registry each round: everything is to be written.
			g := &fixture{k: f.k, cat: f.cat, key: f.key, val: f.val, managedBy: fmt.Sprintf("%s-c%d", f.managedBy, seq), done: make(chan error, 1)}
			r := g.add(b, custom(fmt.Sprintf("bench-init-%d", seq), "pw"))
			name := kube.DefaultSecretName(r)
			client, rc := countingClient(b, f)
			ctrl, err := controller.New(g.cat, client, controller.WithNamespaceSelector(labels.SelectorFromSet(labels.Set{f.key: f.val})), controller.WithManagedBy(g.managedBy),
				controller.WithTargets(func(x registry.Registry, _ *corev1.Namespace) bool { return x.ID == r.ID }))
			if err != nil {
				b.Fatal(err)
			}
			g.ctrl = ctrl
			sw := watchServiceAccounts(b, g, name)
			b.StartTimer()
			start := time.Now()
			rc.start = start
			g.start(b)
			leading := make(chan time.Duration, 1)
			go func() {
				for !ctrl.Leading() {
					time.Sleep(time.Millisecond)
				}
				leading <- time.Since(start)
			}()
			el := sw.last(b, nss).Sub(start)
			b.StopTimer()
			g.stop(b)
			if written, err = f.secret(nss[0], name); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n)/el.Seconds(), "namespaces/s")
			// The same after the informers' caches are filled (the floor's reads are free).
			b.ReportMetric(float64(n)/(el-<-leading).Seconds(), "synced-namespaces/s")
			h := ctrl.Handler()
			writes := metric(b, h, `regcred_controller_writes_total{resource="secret",verb="create"}`) +
				metric(b, h, `regcred_controller_writes_total{resource="serviceaccount",verb="update"}`)
			b.ReportMetric(writes/float64(n), "writes/ns")
			b.ReportMetric(metric(b, h, `regcred_controller_syncs_total{result="success"}`)/float64(n), "syncs/ns")
			b.ReportMetric(float64(rc.report(b, "controller"))/float64(n), "requests/ns")
			b.StartTimer()
		}
	})
	b.Run("floor-raw-parallel", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			seq++
			name := fmt.Sprintf("floor-%d", seq)
			if written == nil {
				// Run alone (-bench InitialSync/floor): the Secret the controller would
				// write, built by the same code (kube.Build), for a registry of its own.
				r := custom(name, "pw")
				r.ID = name
				s, err := kube.Build(context.Background(), "", r, kube.WithManagedBy(f.managedBy+"-floor"))
				if err != nil {
					b.Fatal(err)
				}
				written = s
			}
			// The same Secret as the controller's (labels, annotations, data), under
			// another name.
			tmpl := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: written.Labels, Annotations: written.Annotations},
				Type: written.Type, Data: written.Data}
			// The same end as the controller arm's (the watch seeing every
			// ServiceAccount list the Secret), which also costs the API server the same.
			sw := watchServiceAccounts(b, f, name)
			// The ServiceAccounts are read before the clock starts: the controller reads
			// them from its cache, so the floor gets them for free too.
			list, err := f.k.Client.CoreV1().ServiceAccounts("").List(context.Background(), metav1.ListOptions{FieldSelector: "metadata.name=default"})
			if err != nil {
				b.Fatal(err)
			}
			sas := map[string]*corev1.ServiceAccount{}
			for i := range list.Items {
				sas[list.Items[i].Namespace] = &list.Items[i]
			}
			client, rc := countingClient(b, f)
			b.StartTimer()
			start := time.Now()
			rc.start = start
			var eg errgroup.Group
			eg.SetLimit(controller.DefaultWorkers)
			ctx := context.Background()
			for _, ns := range nss {
				eg.Go(func() error {
					if _, err := client.CoreV1().Secrets(ns).Create(ctx, tmpl, metav1.CreateOptions{}); err != nil {
						return err
					}
					sa := sas[ns]
					sa.ImagePullSecrets = append(sa.ImagePullSecrets, corev1.LocalObjectReference{Name: name})
					_, err := client.CoreV1().ServiceAccounts(ns).Update(ctx, sa, metav1.UpdateOptions{})
					return err
				})
			}
			if err := eg.Wait(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n)/sw.last(b, nss).Sub(start).Seconds(), "namespaces/s")
			b.ReportMetric(float64(rc.report(b, "floor"))/float64(n), "requests/ns")
		}
	})
}
