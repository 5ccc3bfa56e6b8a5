package controller_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/controller"
	fx "github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

// gate is a token endpoint that hangs until opened (or its caller gives up), then answers
// the record's static credentials.
type gate struct {
	once   sync.Once
	open   chan struct{}
	called chan struct{} // closed at the first call
	c1     sync.Once
}

func newGate() *gate { return &gate{open: make(chan struct{}), called: make(chan struct{})} }

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

func (g *gate) provider(r registry.Registry) registry.Provider {
	c, _ := registry.StaticCredentials(r)
	return registry.ProviderFunc(func(ctx context.Context) (registry.Credentials, error) {
		g.c1.Do(func() { close(g.called) })
		select {
		case <-g.open:
			return c, nil
		case <-ctx.Done():
			return registry.Credentials{}, ctx.Err()
		}
	})
}

// gatedFactory hangs the token endpoint of the registry named name behind g; the others
// answer their static credentials after latency (a token endpoint's round trip).
func gatedFactory(name string, g *gate, latency time.Duration) catalog.Option {
	return catalog.WithProviderFactory(func(r registry.Registry) (registry.Provider, error) {
		if r.Name == name {
			return g.provider(r), nil
		}
		c, _ := registry.StaticCredentials(r)
		return registry.ProviderFunc(func(ctx context.Context) (registry.Credentials, error) {
			select {
			case <-time.After(latency):
				return c, nil
			case <-ctx.Done():
				return registry.Credentials{}, ctx.Err()
			}
		}), nil
	})
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: not after 30s", what)
	}
}

// A hung token endpoint delays only its own registry's Secrets: while one registry's
// provider hangs, a rotation of another reaches every namespace. (Before, each event
// re-resolved every registry one after the other: the rotation waited for the hung one.)
func TestHungProviderDelaysOnlyItsOwnSecrets(t *testing.T) {
	g := newGate()
	t.Cleanup(g.release)
	f := newFixture(t, []catalog.Option{gatedFactory("slow", g, 0)})
	fast := f.add(t, custom("fast", "pw-1"))
	f.start(t)
	nss := f.namespaces(t, "hung", 3)
	name := kube.DefaultSecretName(fast)
	for _, ns := range nss {
		fx.Eventually(t, 20*time.Second, "first password in "+ns, func() error {
			s, err := f.secret(ns, name)
			if err != nil {
				return err
			}
			return hasPassword(s, "pw-1")
		})
	}
	f.add(t, custom("slow", "pw-slow"))
	waitClosed(t, g.called, "the slow registry's token fetch started")

	cur, err := f.cat.Get(context.Background(), fast.ID)
	if err != nil {
		t.Fatal(err)
	}
	cur.Fields = map[string]string{"username": "bot", "password": "pw-2"}
	if _, err := f.cat.Update(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	for _, ns := range nss {
		fx.Eventually(t, 20*time.Second, "rotated password in "+ns+" while another registry's endpoint hangs", func() error {
			s, err := f.secret(ns, name)
			if err != nil {
				return err
			}
			return hasPassword(s, "pw-2")
		})
	}
	select {
	case <-g.open:
		t.Fatal("the slow endpoint was released: the test proves nothing")
	default:
	}
}

// A registry deleted while its token is being fetched is never written: the fetch that
// ends after Delete returned is dropped. (Before, the fresh token of the deleted registry
// went into every namespace while the other registries were resolved again, to be pruned
// when the delete event was handled: the other registry's endpoint answers in 300 ms.)
func TestNoWriteOfARegistryAfterDelete(t *testing.T) {
	g := newGate()
	t.Cleanup(g.release)
	f := newFixture(t, []catalog.Option{gatedFactory("doomed", g, 300*time.Millisecond)})
	f.add(t, custom("keeper", "pw-k"))
	f.start(t)
	nss := f.namespaces(t, "doomed", 20)
	ctx := context.Background()

	// Every write of the controller's Secrets, in order (one watch is ordered by
	// resourceVersion across namespaces).
	w, err := f.k.Client.CoreV1().Secrets("").Watch(ctx, metav1.ListOptions{LabelSelector: kube.LabelManagedBy + "=" + f.managedBy})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	doomed := f.add(t, custom("doomed", "pw-doomed"))
	name := kube.DefaultSecretName(doomed)
	waitClosed(t, g.called, "the doomed registry's token fetch started")
	if err := f.cat.Delete(ctx, doomed.ID); err != nil {
		t.Fatal(err)
	}
	g.release() // the token arrives after Delete returned

	// Positive signals that the controller handled the late token: it counts the dropped
	// result; and a later change (another registry) has gone out everywhere, so every
	// write before it has reached the watch.
	fx.Eventually(t, 20*time.Second, "the late token dropped", func() error {
		if n := metric(t, f.ctrl.Handler(), `regcred_controller_failures_total{reason="stale_resolution"}`); n < 1 {
			return fmt.Errorf("no stale resolution counted")
		}
		return nil
	})
	after := kube.DefaultSecretName(f.add(t, custom("after", "pw-after")))
	pending := map[string]bool{}
	for _, ns := range nss {
		pending[ns] = true
	}
	timeout := time.After(30 * time.Second)
	for len(pending) > 0 {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok || ev.Type == watch.Error {
				t.Fatalf("watch ended: %v", ev.Object)
			}
			s, _ := ev.Object.(*corev1.Secret)
			if s == nil {
				continue
			}
			if s.Name == name {
				t.Fatalf("the deleted registry's secret was written: %s %s/%s", ev.Type, s.Namespace, s.Name)
			}
			if s.Name == after {
				delete(pending, s.Namespace)
			}
		case <-timeout:
			t.Fatalf("the later registry's secret did not reach %v", pending)
		}
	}
}

// A registry scoped to a team gets its pull Secret only in the namespaces labelled with
// that team (the label key the operator configured), never in an unrelated namespace.
// (Before, the controller looked at Scope.Namespaces only: the team's password went
// everywhere.)
func TestTeamScopedRegistryStaysInItsNamespaces(t *testing.T) {
	const teamLabel = "regcred-test/team"
	f := newFixture(t, nil, controller.WithScopeLabels(kube.ScopeLabels{Team: teamLabel}))
	team := f.add(t, registry.Registry{Name: "payments-reg", Kind: registry.KindCustom, Server: "payments.registry.example",
		Fields: map[string]string{"username": "bot", "password": "pw-pay"}, Scope: registry.Scope{Teams: []string{"payments"}}})
	f.start(t)
	pay := f.k.LabeledNamespaces(t, "pay", 1, map[string]string{f.key: f.val, teamLabel: "payments"})[0]
	other := f.k.LabeledNamespaces(t, "other", 1, map[string]string{f.key: f.val, teamLabel: "search"})[0]
	bare := f.namespaces(t, "bare", 1)[0]
	teamSecret := kube.DefaultSecretName(team)
	fx.Eventually(t, 20*time.Second, "the team's secret in its namespace", func() error {
		s, err := f.secret(pay, teamSecret)
		if err != nil {
			return err
		}
		return hasPassword(s, "pw-pay")
	})
	// Positive signal: a registry added after the team's was resolved reaches the other
	// namespaces, so they were synced knowing the team's registry.
	open := kube.DefaultSecretName(f.add(t, custom("open", "pw-open")))
	for _, ns := range []string{other, bare} {
		fx.Eventually(t, 20*time.Second, "the unscoped secret in "+ns, func() error {
			_, err := f.secret(ns, open)
			return err
		})
		if _, err := f.secret(ns, teamSecret); !apierrors.IsNotFound(err) {
			t.Fatalf("namespace %s (not the team's) has the team's secret (err %v)", ns, err)
		}
	}
}
