package kube_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/providers"
	"github.com/regcred/regcred/providers/kubesa"
	"github.com/regcred/regcred/registry"
)

func TestMain(m *testing.M) { testenv.KubeMain(m) }

// writeCounter counts the mutating requests a client sends.
type writeCounter struct {
	rt     http.RoundTripper
	writes atomic.Int64
	reads  atomic.Int64
}

func (w *writeCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		w.writes.Add(1)
	default:
		w.reads.Add(1)
	}
	return w.rt.RoundTrip(r)
}

// countingClient returns an admin client whose requests are counted.
func countingClient(t testing.TB, k *testenv.Kube) (kubernetes.Interface, *writeCounter) {
	t.Helper()
	cfg := k.AdminConfig()
	wc := &writeCounter{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { wc.rt = rt; return wc })
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, wc
}

func ghcr(id, password string) registry.Registry {
	return registry.Registry{ID: id, Name: "GHCR " + id, Kind: registry.KindGHCR, Server: "ghcr.io/" + id,
		Fields: map[string]string{"username": "bot", "token": password}}
}

func custom(id, host, password string) registry.Registry {
	return registry.Registry{ID: id, Name: "Custom " + id, Kind: registry.KindCustom, Server: host,
		Fields: map[string]string{"username": "deploy", "password": password}}
}

func getSecret(t *testing.T, c kubernetes.Interface, ns, name string) *corev1.Secret {
	t.Helper()
	s, err := c.CoreV1().Secrets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get secret %s/%s: %v", ns, name, err)
	}
	return s
}

func TestAPIServerAcceptsSecret(t *testing.T) {
	k := testenv.StartKube(t)
	ctx := context.Background()
	ns := k.Namespace(t, "accept")
	regs := []registry.Registry{
		ghcr("reg-ghcr", "ghp_secret"),
		custom("reg-custom", "registry.example.com:5000", "p:ss\"word"),
		{ID: "reg-hub", Name: "Hub", Kind: registry.KindDockerHub, Fields: map[string]string{"username": "me", "password": "dckr_pat_x"}},
	}
	for _, r := range regs {
		t.Run(r.ID, func(t *testing.T) {
			s, err := kube.Build(ctx, ns, r)
			if err != nil {
				t.Fatal(err)
			}
			got, err := k.Client.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("the API server refused the secret: %v", err)
			}
			cfg, err := dockerconfig.Parse(got.Data[corev1.DockerConfigJsonKey])
			if err != nil {
				t.Fatal(err)
			}
			want, _ := registry.StaticCredentials(r)
			srv, _ := r.ServerInfo()
			c, err := cfg.Get(ctx, srv.String())
			if err != nil {
				t.Fatal(err)
			}
			if c.Username != want.Username || c.Password.Reveal() != want.Password.Reveal() {
				t.Errorf("stored credentials %v, want %v", c, want)
			}
			for k, v := range got.Annotations {
				if strings.Contains(k, "hash") || strings.Contains(v, c.Password.Reveal()) {
					t.Errorf("annotation %s=%s is derived from the secret", k, v)
				}
			}
		})
	}
	t.Run("invalid dockerconfigjson is refused by the server", func(t *testing.T) {
		s := kube.NewSecret(ns, "broken", []byte("{not json"), time.Time{}, "x", "x")
		_, err := k.Client.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{})
		if err == nil || !strings.Contains(err.Error(), "dockerconfigjson") {
			t.Fatalf("want the server's validation error, got %v", err)
		}
	})
}

func TestSyncFiftyNamespaces(t *testing.T) {
	k := testenv.StartKube(t)
	ctx := context.Background()
	nss := k.Namespaces(t, "fifty", 50)
	client, wc := countingClient(t, k)
	regs := []registry.Registry{ghcr("a", "token-a"), custom("b", "registry.example.com", "pass-b")}
	s := kube.NewSyncer(client, kube.WithConcurrency(8))

	res, err := s.Sync(ctx, regs, nss)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if got := res.Count(kube.Created); got != 100 {
		t.Fatalf("created %d, want 100\n%s", got, res)
	}
	if got := wc.writes.Load(); got != 100 {
		t.Fatalf("first pass sent %d writes, want 100", got)
	}

	t.Run("second pass writes nothing", func(t *testing.T) {
		before := wc.writes.Load()
		res, err := s.Sync(ctx, regs, nss)
		if err != nil {
			t.Fatal(err)
		}
		if got := wc.writes.Load() - before; got != 0 || res.Writes != 0 {
			t.Fatalf("steady-state pass sent %d writes (result says %d), want 0", got, res.Writes)
		}
		if got := res.Count(kube.Unchanged); got != 100 {
			t.Fatalf("unchanged %d, want 100", got)
		}
	})

	t.Run("rotation updates exactly the changed secrets", func(t *testing.T) {
		rotated := []registry.Registry{regs[0], custom("b", "registry.example.com", "pass-b-rotated")}
		before := wc.writes.Load()
		res, err := s.Sync(ctx, rotated, nss)
		if err != nil {
			t.Fatal(err)
		}
		if got := wc.writes.Load() - before; got != 50 {
			t.Fatalf("rotation sent %d writes, want 50", got)
		}
		for _, nr := range res.Namespaces {
			got := map[string]kube.Action{}
			for _, it := range nr.Items {
				got[it.Name] = it.Action
			}
			want := map[string]kube.Action{"registry-secret-a": kube.Unchanged, "registry-secret-b": kube.Updated}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("namespace %s (-want +got):\n%s", nr.Namespace, d)
			}
		}
		sec := getSecret(t, k.Client, nss[7], "registry-secret-b")
		cfg, _ := dockerconfig.Parse(sec.Data[corev1.DockerConfigJsonKey])
		c, err := cfg.Get(ctx, "registry.example.com")
		if err != nil || c.Password.Reveal() != "pass-b-rotated" {
			t.Fatalf("rotated secret holds %v (%v)", c, err)
		}
	})
}

func TestPruneOnlyOwned(t *testing.T) {
	k := testenv.StartKube(t)
	ctx := context.Background()
	nss := k.Namespaces(t, "prune", 3)
	client := k.Client
	regs := []registry.Registry{ghcr("keep", "k"), ghcr("gone", "g")}
	// The cluster is shared with other tests: this test's syncer marks its secrets with its
	// own managed-by value, as two platforms sharing a cluster would.
	const owner = "regcred-prune-test"
	// A secret of the default owner in a namespace of this test: another instance's.
	mustCreate(t, client, func() *corev1.Secret {
		s, err := kube.Build(ctx, nss[2], ghcr("default-owner", "x"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}())
	if res, err := kube.NewSyncer(client, kube.WithManagedBy(owner)).Sync(ctx, regs, nss); err != nil || res.Err() != nil {
		t.Fatalf("setup sync: %v %v", err, res.Err())
	}
	// Someone else's secrets: one with the label of another manager, one unlabelled.
	other := kube.NewSecret(nss[0], "registry-secret-other", []byte(`{"auths":{}}`), time.Time{}, "other", "other")
	other.Labels[kube.LabelManagedBy] = "helm"
	mustCreate(t, client, other)
	plain := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: nss[0]}, StringData: map[string]string{"k": "v"}}
	mustCreate(t, client, plain)

	s := kube.NewSyncer(client, kube.WithPrune(true), kube.WithManagedBy(owner))
	// "gone" is removed and nss[2] is no longer targeted.
	res, err := s.Sync(ctx, regs[:1], nss[:2])
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, ns := range nss {
		list, err := client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list.Items {
			got[ns] = append(got[ns], s.Name)
		}
		sort.Strings(got[ns])
	}
	want := map[string][]string{
		nss[0]: {"plain", "registry-secret-keep", "registry-secret-other"},
		nss[1]: {"registry-secret-keep"},
		nss[2]: {"registry-secret-default-owner"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("secrets after prune (-want +got):\n%s", d)
	}
	if n := res.Count(kube.Pruned); n != 4 { // gone in nss[0], nss[1]; keep and gone in nss[2]
		t.Fatalf("pruned %d, want 4\n%s", n, res)
	}
}

func mustCreate(t *testing.T, c kubernetes.Interface, s *corev1.Secret) {
	t.Helper()
	if _, err := c.CoreV1().Secrets(s.Namespace).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestUnownedSecretWithSameName(t *testing.T) {
	k := testenv.StartKube(t)
	ctx := context.Background()
	ns := k.Namespace(t, "unowned")
	theirs := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "registry-secret-x", Namespace: ns},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"ghcr.io":{"auth":"dGhlaXJzOnNlY3JldA=="}}}`)},
	}
	mustCreate(t, k.Client, theirs)
	before := getSecret(t, k.Client, ns, "registry-secret-x")

	res, err := kube.NewSyncer(k.Client, kube.WithPrune(true), kube.WithManagedBy("regcred-unowned-test")).Sync(ctx, []registry.Registry{ghcr("x", "mine")}, []string{ns})
	if err != nil {
		t.Fatal(err)
	}
	var ce *kube.ConflictError
	if err := res.Err(); !errors.As(err, &ce) || !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("want a *ConflictError, got %v", err)
	}
	if ce.Namespace != ns || ce.Name != "registry-secret-x" || !strings.Contains(ce.Error(), ns+"/registry-secret-x") {
		t.Fatalf("conflict names %s/%s: %v", ce.Namespace, ce.Name, ce)
	}
	after := getSecret(t, k.Client, ns, "registry-secret-x")
	if after.ResourceVersion != before.ResourceVersion || string(after.Data[corev1.DockerConfigJsonKey]) != string(before.Data[corev1.DockerConfigJsonKey]) {
		t.Fatal("the unowned secret was modified")
	}
}

func TestServiceAccountKeepsOtherPullSecrets(t *testing.T) {
	k := testenv.StartKube(t)
	ctx := context.Background()
	ns := k.Namespace(t, "sa")
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "someone-elses"}, {Name: "another"}}}
	if _, err := k.PutServiceAccount(ctx, ns, sa); err != nil { // the controller-manager may have made it
		t.Fatal(err)
	}
	client, wc := countingClient(t, k)
	s := kube.NewSyncer(client, kube.WithServiceAccounts("default"), kube.WithPrune(true), kube.WithManagedBy("regcred-sa-test"))
	regs := []registry.Registry{ghcr("one", "1"), ghcr("two", "2")}

	names := func() []string {
		got, err := k.Client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range got.ImagePullSecrets {
			out = append(out, r.Name)
		}
		return out
	}
	steps := []struct {
		name       string
		regs       []registry.Registry
		want       []string
		wantWrites int64
	}{
		{"adds ours after theirs", regs, []string{"someone-elses", "another", "registry-secret-one", "registry-secret-two"}, 3},
		{"second pass changes nothing", regs, []string{"someone-elses", "another", "registry-secret-one", "registry-secret-two"}, 0},
		{"pruned registry leaves the list, theirs stay", regs[:1], []string{"someone-elses", "another", "registry-secret-one"}, 2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := wc.writes.Load()
			res, err := s.Sync(ctx, st.regs, []string{ns})
			if err != nil {
				t.Fatal(err)
			}
			if err := res.Err(); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(st.want, names()); d != "" {
				t.Fatalf("imagePullSecrets (-want +got):\n%s", d)
			}
			if got := wc.writes.Load() - before; got != st.wantWrites {
				t.Fatalf("%d writes, want %d", got, st.wantWrites)
			}
		})
	}
	t.Run("missing service account is a failure naming it", func(t *testing.T) {
		res, err := kube.NewSyncer(k.Client, kube.WithServiceAccounts("builder")).Sync(ctx, regs, []string{ns})
		if err != nil {
			t.Fatal(err)
		}
		if err := res.Err(); err == nil || !strings.Contains(err.Error(), "serviceaccount "+ns+"/builder") || !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestRBACForbidden(t *testing.T) {
	k := testenv.StartKube(t)
	ctx := context.Background()
	ns := k.Namespace(t, "rbac")
	res, err := kube.NewSyncer(k.LimitedClient(t)).Sync(ctx, []registry.Registry{ghcr("r", "x")}, []string{ns})
	if err != nil {
		t.Fatal(err)
	}
	err = res.Err()
	if !errors.Is(err, registry.ErrForbidden) {
		t.Fatalf("want ErrForbidden, got %v", err)
	}
	for _, want := range []string{"namespace " + ns, "secrets", "RBAC", testenv.KubeLimitedUser} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, gerr := k.Client.CoreV1().Secrets(ns).Get(ctx, "registry-secret-r", metav1.GetOptions{}); gerr == nil {
		t.Error("a secret was written despite RBAC")
	}
}

func TestKubeSATokenRequest(t *testing.T) {
	k := testenv.StartKube(t)
	ctx := context.Background()
	ns := k.Namespace(t, "kubesa")
	if _, err := k.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "puller"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := kubesa.New(k.Client, ns, "puller", kubesa.WithAudiences(testenv.KubeIssuer), kubesa.WithLifetime(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.Registry{ID: "payload", Name: "payload", Kind: registry.KindKubernetes, Server: "payload-registry.example.com",
		Fields: map[string]string{"serviceAccount": ns + "/puller"}}
	factory := func(registry.Registry) (registry.Provider, error) { return p, nil }
	res, err := kube.NewSyncer(k.Client, kube.WithProviderFactory(factory)).Sync(ctx, []registry.Registry{reg}, []string{ns})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	sec := getSecret(t, k.Client, ns, "registry-secret-payload")
	exp := kube.ExpiresAt(sec)
	if d := time.Until(exp); d < 50*time.Minute || d > 61*time.Minute {
		t.Fatalf("expires-at %v is not about an hour away", exp)
	}
	cfg, err := dockerconfig.Parse(sec.Data[corev1.DockerConfigJsonKey])
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfg.Get(ctx, "payload-registry.example.com")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := k.Client.AuthenticationV1().TokenReviews().Create(ctx, &authv1.TokenReview{Spec: authv1.TokenReviewSpec{Token: c.Password.Reveal(), Audiences: []string{testenv.KubeIssuer}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "system:serviceaccount:" + ns + ":puller"; !rev.Status.Authenticated || rev.Status.User.Username != want {
		b, _ := json.Marshal(rev.Status)
		t.Fatalf("token in the secret does not review as %s: %s", want, b)
	}
}

// TestTokenRegistrySteadyStateAndRefresh syncs a Kubernetes token registry through
// providers.Factory (cached TokenRequest tokens): the second pass writes nothing, and a
// Refresher pass once the token is due writes a fresh token that the API server accepts.
func TestTokenRegistrySteadyStateAndRefresh(t *testing.T) {
	k := testenv.StartKube(t)
	ctx := context.Background()
	ns := k.Namespace(t, "tokens")
	if _, err := k.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "puller"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	clock := clock.NewFake(time.Now())
	client, wc := countingClient(t, k)
	factory := providers.Shared(providers.Factory(providers.WithKubeClient(k.Client), providers.WithClock(clock)))
	reg := registry.Registry{ID: "payload", Name: "payload", Kind: registry.KindKubernetes, Server: "payload-registry.example.com",
		Fields: map[string]string{"serviceAccount": ns + "/puller", "audience": testenv.KubeIssuer, "expirationSeconds": "3600"}}
	s := kube.NewSyncer(client, kube.WithProviderFactory(factory), kube.WithClock(clock))
	r := kube.NewRefresher(s, func(context.Context) ([]registry.Registry, []string, error) {
		return []registry.Registry{reg}, []string{ns}, nil
	}, kube.WithRefresherClock(clock), kube.WithJitter(func() float64 { return 0.5 }), kube.WithResync(24*time.Hour))

	res, wait, err := r.Step(ctx)
	if err != nil || res.Count(kube.Created) != 1 {
		t.Fatalf("first pass: %v\n%s", err, res)
	}
	if wait < 47*time.Minute || wait > 49*time.Minute {
		t.Fatalf("next refresh in %v, want about 48m (when the cache refreshes: 0.8 of a one-hour token)", wait)
	}
	first := getSecret(t, k.Client, ns, "registry-secret-payload")

	before := wc.writes.Load()
	if res, _, err := r.Step(ctx); err != nil || res.Count(kube.Unchanged) != 1 || wc.writes.Load() != before {
		t.Fatalf("steady pass wrote %d (err %v)", wc.writes.Load()-before, err)
	}

	clock.Advance(wait)
	res, _, err = r.Step(ctx)
	if err != nil || res.Count(kube.Updated) != 1 {
		t.Fatalf("due pass: %v\n%s", err, res)
	}
	second := getSecret(t, k.Client, ns, "registry-secret-payload")
	if bytes.Equal(second.Data[corev1.DockerConfigJsonKey], first.Data[corev1.DockerConfigJsonKey]) {
		t.Fatal("the due pass did not write a new token")
	}
	// The API server stamps the expiry from its own (real) clock: about an hour from now.
	if d := time.Until(kube.ExpiresAt(second)); d < 50*time.Minute || d > 61*time.Minute {
		t.Fatalf("expires-at %v is not about an hour away", kube.ExpiresAt(second))
	}
	cfg, _ := dockerconfig.Parse(second.Data[corev1.DockerConfigJsonKey])
	c, err := cfg.Get(ctx, "payload-registry.example.com")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := k.Client.AuthenticationV1().TokenReviews().Create(ctx, &authv1.TokenReview{Spec: authv1.TokenReviewSpec{Token: c.Password.Reveal(), Audiences: []string{testenv.KubeIssuer}}}, metav1.CreateOptions{})
	if err != nil || !rev.Status.Authenticated {
		t.Fatalf("refreshed token does not review: %v %+v", err, rev.Status)
	}
}
