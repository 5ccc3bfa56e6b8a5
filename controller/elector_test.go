package controller_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/regcred/regcred/controller"
	fx "github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/store/postgres"
)

// TestPostgresLeaseElector: two replicas elect through the PostgreSQL advisory-lock lease
// of store/postgres, without a Kubernetes Lease; one acts, and the other takes over when
// the leader's lease ends.
func TestPostgresLeaseElector(t *testing.T) {
	pg := testenv.StartPostgres(t)
	dsn := pg.DSN(pg.Database(t, "elect"))
	f := newFixture(t, nil)
	r := f.add(t, custom("pg-elect", "pw"))
	name := kube.DefaultSecretName(r)
	leaseName := "regcred-controller-" + f.val
	replica := func(id string) (*controller.Controller, *postgres.Store, context.CancelFunc, <-chan struct{}) {
		st, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		elector := controller.ElectorFunc(func(ctx context.Context) (<-chan struct{}, func(), error) {
			l, err := st.Acquire(ctx, leaseName, postgres.WithLeaseTTL(2*time.Second), postgres.WithLeaseRetry(100*time.Millisecond), postgres.WithLeaseHolder(id))
			if err != nil {
				return nil, nil, err
			}
			return l.Lost(), func() { l.Release(context.Background()) }, nil
		})
		c, err := controller.New(f.cat, f.k.Client, controller.WithNamespaceSelector(labels.SelectorFromSet(labels.Set{f.key: f.val})),
			controller.WithManagedBy(f.managedBy), controller.WithElector(elector))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := c.Run(ctx); err != nil && !errors.Is(err, controller.ErrLostLeadership) {
				t.Errorf("replica %s: %v", id, err)
			}
		}()
		t.Cleanup(func() { cancel(); <-done })
		return c, st, cancel, done
	}
	a, _, stopA, doneA := replica("a")
	fx.Eventually(t, 10*time.Second, "a leads", func() error {
		if !a.Leading() {
			return fmt.Errorf("no")
		}
		return nil
	})
	b, _, _, _ := replica("b")
	time.Sleep(500 * time.Millisecond)
	if b.Leading() {
		t.Fatal("two replicas lead at once")
	}
	ns := f.namespaces(t, "pg-elect", 1)[0]
	fx.Eventually(t, 10*time.Second, "the leader syncs", func() error { return f.saLists(ns, "default", name) })
	if got := metric(t, b.Handler(), `regcred_controller_writes_total{resource="secret",verb="create"}`); got != 0 {
		t.Fatalf("the follower wrote %v secrets", got)
	}
	stopA() // a clean shutdown releases the lease
	<-doneA
	stopped := time.Now()
	fx.Eventually(t, 5*time.Second, "b takes over", func() error {
		if !b.Leading() {
			return fmt.Errorf("no")
		}
		return nil
	})
	t.Logf("takeover after %v", time.Since(stopped).Round(10*time.Millisecond))
	ns2 := f.namespaces(t, "pg-elect-after", 1)[0]
	fx.Eventually(t, 10*time.Second, "the new leader syncs", func() error { return f.saLists(ns2, "default", name) })
}
