package controller_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/regcred/regcred/controller"
	fx "github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/kube"
)

// metric reads one sample from a controller's /metrics ("name{labels}" as printed).
func metric(t testing.TB, h http.Handler, sample string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, sample+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	return 0
}

func TestLeaderElectionOneActsAndAFollowerTakesOver(t *testing.T) {
	const (
		lease = 3 * time.Second
		renew = 2 * time.Second
		retry = 500 * time.Millisecond
	)
	f := newFixture(t, nil) // f.ctrl is not used: two replicas below
	r := f.add(t, custom("leader", "pw-l"))
	name := kube.DefaultSecretName(r)
	leaseNS := f.k.Namespace(t, "lease")
	leaseName := "regcred-" + f.val
	replica := func(id string) (*controller.Controller, context.CancelFunc, <-chan struct{}) {
		le := controller.LeaderElection{Lock: controller.LeaseLock(f.k.Client, leaseNS, leaseName, id),
			LeaseDuration: lease, RenewDeadline: renew, RetryPeriod: retry}
		c, err := controller.New(f.cat, f.k.Client,
			controller.WithNamespaceSelector(labels.SelectorFromSet(labels.Set{f.key: f.val})),
			controller.WithManagedBy(f.managedBy), controller.WithLeaderElection(le))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := c.Run(ctx); err != nil {
				t.Errorf("replica %s: %v", id, err)
			}
		}()
		t.Cleanup(func() { cancel(); <-done })
		return c, cancel, done
	}
	a, killA, doneA := replica("replica-a")
	fx.Eventually(t, 10*time.Second, "replica a leads", func() error {
		if !a.Leading() {
			return fmt.Errorf("not leading")
		}
		return nil
	})
	b, _, _ := replica("replica-b")
	fx.Eventually(t, 10*time.Second, "replica b stands by, ready", func() error {
		rec := httptest.NewRecorder()
		b.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "standing by") {
			return fmt.Errorf("%d %s", rec.Code, rec.Body)
		}
		return nil
	})

	// Two replicas write exactly as much as one: the follower writes nothing.
	const n = 5
	nss := f.namespaces(t, "leader", n)
	for _, ns := range nss {
		fx.Eventually(t, 10*time.Second, "synced "+ns, func() error { return f.saLists(ns, "default", name) })
	}
	if got := metric(t, a.Handler(), `regcred_controller_writes_total{resource="secret",verb="create"}`); got != n {
		t.Errorf("leader created %v secrets, want %d", got, n)
	}
	for _, verb := range []string{"create", "update", "delete"} {
		if got := metric(t, b.Handler(), `regcred_controller_writes_total{resource="secret",verb="`+verb+`"}`); got != 0 {
			t.Errorf("follower sent %v secret %s writes, want 0", got, verb)
		}
	}
	if got := metric(t, b.Handler(), `regcred_controller_writes_total{resource="serviceaccount",verb="update"}`); got != 0 {
		t.Errorf("follower sent %v serviceaccount writes, want 0", got)
	}

	// The leader dies without releasing the lease (as a killed process does).
	killA()
	<-doneA
	died := time.Now()
	fx.Eventually(t, lease+5*time.Second, "replica b takes over", func() error {
		if !b.Leading() {
			return fmt.Errorf("not leading")
		}
		return nil
	})
	took := time.Since(died)
	t.Logf("failover after %v (lease %v, retry %v)", took.Round(10*time.Millisecond), lease, retry)
	if took > lease+2*time.Second {
		t.Errorf("failover took %v, want within the lease duration + 2s (%v)", took, lease+2*time.Second)
	}
	ns := f.namespaces(t, "after", 1)[0]
	fx.Eventually(t, 10*time.Second, "the new leader syncs", func() error { return f.saLists(ns, "default", name) })
}
