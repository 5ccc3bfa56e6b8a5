package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/controller"
	fx "github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

func TestTokenRefreshedBeforeExpiryInPlace(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	p := fx.TokenProvider(&fx.TokenSource{Clock: clk})
	factory := catalog.WithProviderFactory(func(registry.Registry) (registry.Provider, error) { return p, nil })
	f := newFixture(t, []catalog.Option{factory}, controller.WithClock(clk), controller.WithResync(2*time.Hour))
	r := f.add(t, custom("token", "unused"))
	name := kube.DefaultSecretName(r)
	f.start(t)
	ns := f.namespaces(t, "token", 1)[0]
	var uid string
	fx.Eventually(t, 10*time.Second, "first token written", func() error {
		s, err := f.secret(ns, name)
		if err != nil {
			return err
		}
		uid = string(s.UID)
		if got := s.Annotations[kube.AnnotationExpiresAt]; got != "2026-01-01T13:00:00Z" {
			return fmt.Errorf("expires-at %q", got)
		}
		return hasPassword(s, "tok-1")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clk.BlockUntil(ctx, 1); err != nil {
		t.Fatal("the controller armed no refresh timer")
	}
	if next, _ := clk.NextDeadline(); !next.Equal(time.Date(2026, 1, 1, 12, 48, 0, 0, time.UTC)) {
		t.Fatalf("refresh scheduled at %v, want when the cache refreshes (0.8 of the token's hour)", next)
	}
	clk.Advance(48 * time.Minute) // 12 minutes before expiry
	fx.Eventually(t, 10*time.Second, "refreshed token written in place", func() error {
		s, err := f.secret(ns, name)
		if err != nil {
			return err
		}
		if string(s.UID) != uid {
			return fmt.Errorf("secret re-created")
		}
		if got := s.Annotations[kube.AnnotationExpiresAt]; got != "2026-01-01T13:48:00Z" {
			return fmt.Errorf("expires-at %q", got)
		}
		return hasPassword(s, "tok-2")
	})
}

func TestTerminatingNamespaceIsSkipped(t *testing.T) {
	f := newFixture(t, nil)
	r := f.add(t, custom("term", "pw"))
	name := kube.DefaultSecretName(r)
	f.start(t)
	ns := f.namespaces(t, "term", 1)[0]
	ctx := context.Background()
	fx.Eventually(t, 10*time.Second, "initial sync", func() error { return f.saLists(ns, "default", name) })
	// A finalizer keeps the namespace terminating while the namespace controller deletes
	// the rest (our Secret included: an event the controller hears).
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "hold", Finalizers: []string{"regcred.io/test-hold"}}}
	if _, err := f.k.Client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		got, err := f.k.Client.CoreV1().ConfigMaps(ns).Get(ctx, "hold", metav1.GetOptions{})
		if err == nil {
			got.Finalizers = nil
			_, _ = f.k.Client.CoreV1().ConfigMaps(ns).Update(ctx, got, metav1.UpdateOptions{})
		}
	})
	if err := f.k.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	fx.Eventually(t, 30*time.Second, "the namespace controller deleted the secret", func() error {
		if _, err := f.secret(ns, name); !apierrors.IsNotFound(err) {
			return fmt.Errorf("secret still there: %v", err)
		}
		return nil
	})
	time.Sleep(time.Second) // time for a (wrong) re-create and its refusal
	evs, err := f.k.Client.CoreV1().Events(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.name=" + ns})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs.Items {
		if e.Source.Component == controller.EventComponent {
			t.Fatalf("the controller acted in a terminating namespace: %s %s", e.Reason, e.Message)
		}
	}
	if n, err := f.k.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil || n.Status.Phase != corev1.NamespaceTerminating {
		t.Fatalf("namespace is not terminating (%v): the test proves nothing", err)
	} else if !strings.HasPrefix(n.Name, "term") {
		t.Fatal(n.Name)
	}
}
