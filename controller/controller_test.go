package controller_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/controller"
	fx "github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

func TestMain(m *testing.M) { testenv.KubeMain(m) }

// fixture is one test's controller over its own namespaces (label selector) and its own
// managed-by value, so tests sharing the control plane never see each other's work.
type fixture struct {
	k         *testenv.Kube
	cat       *catalog.Catalog
	ctrl      *controller.Controller
	key, val  string
	managedBy string
	done      chan error
	cancel    context.CancelFunc
	stopOnce  sync.Once
}

func newFixture(t testing.TB, catOpts []catalog.Option, opts ...controller.Option) *fixture {
	t.Helper()
	return newFixtureWith(t, nil, catOpts, opts...)
}

// newFixtureWith is newFixture with the controller's client sending its requests through
// wrap (nil: the harness's admin client).
func newFixtureWith(t testing.TB, wrap func(http.RoundTripper) http.RoundTripper, catOpts []catalog.Option, opts ...controller.Option) *fixture {
	t.Helper()
	k := testenv.StartKube(t)
	k.RequireControllerManager(t)
	f := &fixture{k: k, cat: catalog.New(memory.New(), catOpts...), done: make(chan error, 1)}
	var client kubernetes.Interface = k.Client
	if wrap != nil {
		cfg := k.AdminConfig()
		cfg.Wrap(wrap)
		c, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		client = c
	}
	f.key, f.val = k.Selector(t)
	f.managedBy = "regcred-" + f.val
	sel := labels.SelectorFromSet(labels.Set{f.key: f.val})
	opts = append([]controller.Option{controller.WithNamespaceSelector(sel), controller.WithManagedBy(f.managedBy)}, opts...)
	ctrl, err := controller.New(f.cat, client, opts...)
	if err != nil {
		t.Fatal(err)
	}
	f.ctrl = ctrl
	return f
}

func (f *fixture) start(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	go func() { f.done <- f.ctrl.Run(ctx) }()
	t.Cleanup(func() { f.stop(t) })
}

// stop ends Run and checks it returned nil; calling it again does nothing.
func (f *fixture) stop(t testing.TB) {
	t.Helper()
	f.stopOnce.Do(func() {
		f.cancel()
		select {
		case err := <-f.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return 30s after its context ended")
		}
	})
}

func (f *fixture) namespaces(t testing.TB, prefix string, n int) []string {
	t.Helper()
	return f.k.LabeledNamespaces(t, prefix, n, map[string]string{f.key: f.val})
}

func (f *fixture) add(t testing.TB, r registry.Registry) registry.Registry {
	t.Helper()
	got, err := f.cat.Add(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func custom(name, password string) registry.Registry {
	return registry.Registry{Name: name, Kind: registry.KindCustom, Server: name + ".registry.example",
		Fields: map[string]string{"username": "bot", "password": password}}
}

func (f *fixture) secret(ns, name string) (*corev1.Secret, error) {
	return f.k.Client.CoreV1().Secrets(ns).Get(context.Background(), name, metav1.GetOptions{})
}

// hasPassword checks the Secret holds the password (and is ours).
func hasPassword(s *corev1.Secret, password string) error {
	if !kube.Owned(s, s.Labels[kube.LabelManagedBy]) || s.Labels[kube.LabelManagedBy] == "" {
		return errors.New("not labelled managed-by")
	}
	if !strings.Contains(string(s.Data[corev1.DockerConfigJsonKey]), password) && !containsAuth(s, password) {
		return fmt.Errorf("secret does not hold password %q", password)
	}
	return nil
}

func containsAuth(s *corev1.Secret, password string) bool {
	// the docker config carries "auth": base64(user:password) and the password itself.
	return strings.Contains(string(s.Data[corev1.DockerConfigJsonKey]), `"password":"`+password+`"`)
}

func (f *fixture) saLists(ns, sa, secret string) error {
	got, err := f.k.Client.CoreV1().ServiceAccounts(ns).Get(context.Background(), sa, metav1.GetOptions{})
	if err != nil {
		return err
	}
	for _, r := range got.ImagePullSecrets {
		if r.Name == secret {
			return nil
		}
	}
	return fmt.Errorf("serviceaccount %s/%s lists %v, not %s", ns, sa, got.ImagePullSecrets, secret)
}

func (f *fixture) saLacks(ns, sa, secret string) error {
	if err := f.saLists(ns, sa, secret); err == nil {
		return fmt.Errorf("serviceaccount %s/%s still lists %s", ns, sa, secret)
	}
	return nil
}

func TestNewNamespaceGetsSecretAndServiceAccountPatch(t *testing.T) {
	f := newFixture(t, nil)
	r := f.add(t, custom("acme", "pw-1"))
	name := kube.DefaultSecretName(r)
	f.start(t)
	ns := f.namespaces(t, "fresh", 1)[0]
	fx.Eventually(t, 10*time.Second, "secret in the new namespace", func() error {
		s, err := f.secret(ns, name)
		if err != nil {
			return err
		}
		return hasPassword(s, "pw-1")
	})
	// The default ServiceAccount is the controller-manager's: pending until it appears.
	fx.Eventually(t, 10*time.Second, "default serviceaccount patched", func() error { return f.saLists(ns, "default", name) })

	// An unselected namespace gets nothing.
	other := f.k.Namespace(t, "unselected")
	time.Sleep(300 * time.Millisecond)
	if _, err := f.secret(other, name); !apierrors.IsNotFound(err) {
		t.Fatalf("unselected namespace: %v, want no secret", err)
	}
}

func TestDriftIsRepaired(t *testing.T) {
	f := newFixture(t, nil)
	r := f.add(t, custom("drift", "pw-d"))
	name := kube.DefaultSecretName(r)
	f.start(t)
	ns := f.namespaces(t, "drift", 1)[0]
	ctx := context.Background()
	fx.Eventually(t, 10*time.Second, "initial sync", func() error { return f.saLists(ns, "default", name) })

	t.Run("deleted secret", func(t *testing.T) {
		s, _ := f.secret(ns, name)
		if err := f.k.Client.CoreV1().Secrets(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		fx.Eventually(t, 5*time.Second, "secret restored", func() error {
			got, err := f.secret(ns, name)
			if err != nil {
				return err
			}
			if got.UID == s.UID {
				return errors.New("same UID: not deleted yet")
			}
			return hasPassword(got, "pw-d")
		})
	})
	t.Run("edited secret", func(t *testing.T) {
		s, err := f.secret(ns, name)
		if err != nil {
			t.Fatal(err)
		}
		s.Data[corev1.DockerConfigJsonKey] = []byte(`{"auths":{"evil.example":{"auth":"eDp5"}}}`)
		s.Labels["someone"] = "else"
		if _, err := f.k.Client.CoreV1().Secrets(ns).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		fx.Eventually(t, 5*time.Second, "secret content restored in place", func() error {
			got, err := f.secret(ns, name)
			if err != nil {
				return err
			}
			if got.UID != s.UID {
				return errors.New("the secret was replaced, not updated")
			}
			if got.Labels["someone"] != "else" {
				return errors.New("others' label dropped")
			}
			return hasPassword(got, "pw-d")
		})
	})
	t.Run("removed imagePullSecrets entry", func(t *testing.T) {
		sa, err := f.k.PutServiceAccount(ctx, ns, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"},
			ImagePullSecrets: []corev1.LocalObjectReference{{Name: "theirs"}}})
		if err != nil {
			t.Fatal(err)
		}
		_ = sa
		fx.Eventually(t, 5*time.Second, "entry restored", func() error { return f.saLists(ns, "default", name) })
		if err := f.saLists(ns, "default", "theirs"); err != nil {
			t.Fatalf("others' entry: %v", err)
		}
	})
}

func TestRotationUpdatesInPlaceAndPruneCleansUp(t *testing.T) {
	f := newFixture(t, nil)
	r := f.add(t, custom("rot", "pw-old"))
	keep := f.add(t, custom("keep", "pw-keep"))
	name, keepName := kube.DefaultSecretName(r), kube.DefaultSecretName(keep)
	f.start(t)
	nss := f.namespaces(t, "rot", 3)
	ctx := context.Background()
	uids := map[string]string{}
	for _, ns := range nss {
		fx.Eventually(t, 10*time.Second, "initial sync "+ns, func() error {
			if err := f.saLists(ns, "default", keepName); err != nil {
				return err
			}
			return f.saLists(ns, "default", name)
		})
		s, _ := f.secret(ns, name)
		uids[ns] = string(s.UID)
	}

	r.Fields = map[string]string{"username": "bot", "password": "pw-new"}
	if _, err := f.cat.Update(ctx, r); err != nil {
		t.Fatal(err)
	}
	for _, ns := range nss {
		fx.Eventually(t, 10*time.Second, "rotation reached "+ns, func() error {
			s, err := f.secret(ns, name)
			if err != nil {
				return err
			}
			if string(s.UID) != uids[ns] {
				return fmt.Errorf("secret was re-created (uid %s, was %s)", s.UID, uids[ns])
			}
			return hasPassword(s, "pw-new")
		})
	}

	t.Run("deleted registry", func(t *testing.T) {
		if err := f.cat.Delete(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		for _, ns := range nss {
			fx.Eventually(t, 10*time.Second, "pruned in "+ns, func() error {
				if _, err := f.secret(ns, name); !apierrors.IsNotFound(err) {
					return fmt.Errorf("secret still there: %v", err)
				}
				return f.saLacks(ns, "default", name)
			})
			if err := f.saLists(ns, "default", keepName); err != nil {
				t.Fatalf("the other registry's entry: %v", err)
			}
		}
	})
	t.Run("namespace no longer selected", func(t *testing.T) {
		ns := nss[0]
		n, err := f.k.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		delete(n.Labels, f.key)
		if _, err := f.k.Client.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		fx.Eventually(t, 10*time.Second, "pruned in the unselected namespace", func() error {
			if _, err := f.secret(ns, keepName); !apierrors.IsNotFound(err) {
				return fmt.Errorf("secret still there: %v", err)
			}
			return f.saLacks(ns, "default", keepName)
		})
		if _, err := f.secret(nss[1], keepName); err != nil {
			t.Fatalf("a still selected namespace lost its secret: %v", err)
		}
	})
}

func TestScopeTargetsNamespaces(t *testing.T) {
	f := newFixture(t, nil)
	r := custom("scoped", "pw-s")
	r.Scope = registry.Scope{Namespaces: []string{"team-a-*"}}
	r = f.add(t, r)
	name := kube.DefaultSecretName(r)
	f.start(t)
	a := f.namespaces(t, "team-a", 1)[0]
	b := f.namespaces(t, "team-b", 1)[0]
	fx.Eventually(t, 10*time.Second, "secret in the scoped namespace", func() error {
		_, err := f.secret(a, name)
		return err
	})
	fx.Eventually(t, 10*time.Second, "default serviceaccount in team-b", func() error {
		_, err := f.k.Client.CoreV1().ServiceAccounts(b).Get(context.Background(), "default", metav1.GetOptions{})
		return err
	})
	time.Sleep(300 * time.Millisecond)
	if _, err := f.secret(b, name); !apierrors.IsNotFound(err) {
		t.Fatalf("namespace outside the scope: %v, want no secret", err)
	}
}

func TestSomeoneElsesSecretIsLeftAloneWithAnEvent(t *testing.T) {
	f := newFixture(t, nil)
	r := f.add(t, custom("theirs", "pw-t"))
	name := kube.DefaultSecretName(r)
	ns := f.namespaces(t, "conflict", 1)[0]
	ctx := context.Background()
	theirs := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"x": []byte("y")}}
	if _, err := f.k.Client.CoreV1().Secrets(ns).Create(ctx, theirs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.start(t)
	fx.Eventually(t, 10*time.Second, "a conflict event on the namespace", func() error {
		evs, err := f.k.Client.CoreV1().Events(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{
			FieldSelector: "involvedObject.name=" + ns + ",reason=" + controller.ReasonSecretConflict})
		if err != nil {
			return err
		}
		if len(evs.Items) == 0 {
			return errors.New("no event yet")
		}
		if !strings.Contains(evs.Items[0].Message, "not managed by regcred") {
			return fmt.Errorf("event message %q", evs.Items[0].Message)
		}
		return nil
	})
	got, err := f.secret(ns, name)
	if err != nil || got.Type != corev1.SecretTypeOpaque || string(got.Data["x"]) != "y" {
		t.Fatalf("someone else's secret was changed: %+v %v", got, err)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	f := newFixture(t, nil)
	srv := httptest.NewServer(f.ctrl.Handler())
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/readyz"); code != 503 {
		t.Fatalf("/readyz before Run: %d, want 503", code)
	}
	f.add(t, custom("metrics", "pw-m"))
	f.start(t)
	fx.Eventually(t, 10*time.Second, "ready", func() error {
		if code, body := get("/readyz"); code != 200 {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}
	f.namespaces(t, "metrics", 2)
	fx.Eventually(t, 10*time.Second, "writes counted", func() error {
		_, body := get("/metrics")
		for _, want := range []string{
			`regcred_controller_writes_total{resource="secret",verb="create"} 2`,
			`regcred_controller_leader 1`,
			`regcred_controller_queue_depth`,
			`regcred_controller_syncs_total{result="success"}`,
		} {
			if !strings.Contains(body, want) {
				return fmt.Errorf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(body, "pw-m") {
			t.Fatal("/metrics shows a password")
		}
		return nil
	})
}
