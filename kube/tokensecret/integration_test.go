package tokensecret_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/kube/tokensecret"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

// One control plane with the ServiceAccount admission plugin (as a real cluster has it) serves
// every test, the kubelet's included.
func TestMain(m *testing.M) { testenv.KubeletMain(m) }

const (
	registryHost = "payload-registry.example.com"
	placeholder  = `{"auths":{}}` // eyJhdXRocyI6e319
)

// tokenCatalog is a Catalog holding the payload registry's Kubernetes-token record.
func tokenCatalog(t *testing.T) *catalog.Catalog {
	cat := catalog.New(memory.New())
	t.Cleanup(func() { cat.Close() })
	if _, err := cat.Add(context.Background(), registry.Registry{Name: "payload registry", Kind: registry.KindKubernetes, Server: registryHost,
		Fields: map[string]string{"serviceAccount": "payload/registry", "audience": registryHost}}); err != nil {
		t.Fatal(err)
	}
	return cat
}

// documentSecret is seed 004's Secret as the document writes it.
func documentSecret(t *testing.T) *corev1.Secret {
	b, err := os.ReadFile("testdata/document-004-secret.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var s corev1.Secret
	if err := yaml.UnmarshalStrict(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// run starts r until the test ends.
func run(t *testing.T, r *tokensecret.Reconciler) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(func() { cancel() })
	return stop
}

// waitFor polls get until ok holds (a positive signal), at most limit.
func waitFor[T any](t *testing.T, what string, limit time.Duration, get func() (T, error), ok func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last T
	var err error
	for time.Now().Before(deadline) {
		if last, err = get(); err == nil && ok(last) {
			return last
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v (last error %v)", what, limit, err)
	return last
}

func eventsOf(t *testing.T, c kubernetes.Interface, ns, name string) []corev1.Event {
	l, err := c.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func hasEvent(reason, text string) func([]corev1.Event) bool {
	return func(evs []corev1.Event) bool {
		for _, e := range evs {
			if e.Reason == reason && strings.Contains(e.Message, text) {
				return true
			}
		}
		return false
	}
}

// Seed 004's workflow on the real API server with kube-controller-manager's garbage
// collector: the document's Secret, created as it is, is filled with a token of its
// ServiceAccount for the payload registry (the API server's TokenReview accepts it for the
// registry's audience), annotated with the document's own keys, owned by the
// ServiceAccount; refreshed before expiry on a fake clock; and gone once the ServiceAccount
// is deleted.
func TestDocumentWorkflow(t *testing.T) {
	k := testenv.StartKubeForKubelet(t)
	k.RequireControllerManager(t)
	ctx := context.Background()
	ns := k.Namespace(t, "project-1")
	sa, err := k.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "my-pull-sa"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Now())
	stop := run(t, tokensecret.New(k.Client, tokenCatalog(t), tokensecret.WithClock(clk), tokensecret.WithNamespace(ns)))

	created := time.Now()
	if _, err := k.Client.CoreV1().Secrets(ns).Create(ctx, documentSecret(t), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	secrets := k.Client.CoreV1().Secrets(ns)
	get := func() (*corev1.Secret, error) { return secrets.Get(ctx, "my-pull-secret", metav1.GetOptions{}) }
	filled := waitFor(t, "the Secret filled", 30*time.Second, get, func(s *corev1.Secret) bool {
		return string(s.Data[corev1.DockerConfigJsonKey]) != placeholder
	})
	t.Logf("filled %v after the Secret was created", time.Since(created).Round(time.Millisecond))

	// The document's annotations, with our values.
	a := filled.Annotations
	data := filled.Data[corev1.DockerConfigJsonKey]
	sum := sha256.Sum256(data)
	exp, err := time.Parse(time.RFC3339, a["payload-registry.deckhouse.io/expires-at"])
	if err != nil || exp.Before(created.Add(23*time.Hour)) || exp.After(time.Now().Add(24*time.Hour+time.Minute)) {
		t.Errorf("expires-at %q: want about 24 h from now (%v)", a["payload-registry.deckhouse.io/expires-at"], err)
	}
	if a["payload-registry.deckhouse.io/service-account.name"] != "my-pull-sa" || a["payload-registry.deckhouse.io/service-account.uid"] != string(sa.UID) ||
		a["payload-registry.deckhouse.io/hash"] != hex.EncodeToString(sum[:]) {
		t.Errorf("annotations %v: want the document's keys with the ServiceAccount's name and UID and the data's sha256", a)
	}
	if refs := filled.OwnerReferences; len(refs) != 1 || refs[0].Kind != "ServiceAccount" || refs[0].Name != "my-pull-sa" || refs[0].UID != sa.UID {
		t.Errorf("owner references %+v: want the ServiceAccount", refs)
	}
	token := tokenFor(t, data)
	review, err := k.Client.AuthenticationV1().TokenReviews().Create(ctx, &authv1.TokenReview{Spec: authv1.TokenReviewSpec{Token: token, Audiences: []string{registryHost}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "system:serviceaccount:" + ns + ":my-pull-sa"; !review.Status.Authenticated || review.Status.User.Username != want {
		t.Fatalf("the Secret's token: authenticated=%v as %q, want %s for audience %s", review.Status.Authenticated, review.Status.User.Username, want, registryHost)
	}
	// The token is the registry's only: the API server refuses it.
	if review, err := k.Client.AuthenticationV1().TokenReviews().Create(ctx, &authv1.TokenReview{Spec: authv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{}); err != nil || review.Status.Authenticated {
		t.Fatalf("the API server accepts the Secret's token for its own audience (%v)", err)
	}
	waitFor(t, "the Filled Event", 10*time.Second, func() ([]corev1.Event, error) { return eventsOf(t, k.Client, ns, "my-pull-secret"), nil },
		hasEvent(tokensecret.ReasonFilled, "ServiceAccount my-pull-sa"))

	// Refreshed before the expiry: the fake clock reaches four fifths of the token's life.
	clk.Advance(exp.Sub(clk.Now())*4/5 + time.Second)
	refreshed := waitFor(t, "the Secret refreshed", 30*time.Second, get, func(s *corev1.Secret) bool {
		return s.Annotations["payload-registry.deckhouse.io/hash"] != a["payload-registry.deckhouse.io/hash"]
	})
	if tokenFor(t, refreshed.Data[corev1.DockerConfigJsonKey]) == token {
		t.Fatal("refreshed with the same token")
	}
	stop()

	// The ServiceAccount is deleted: the garbage collector deletes the Secret.
	if err := k.Client.CoreV1().ServiceAccounts(ns).Delete(ctx, "my-pull-sa", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Secret deleted with its ServiceAccount", 60*time.Second, func() (bool, error) {
		_, err := get()
		return apierrors.IsNotFound(err), nil
	}, func(gone bool) bool { return gone })
}

// tokenFor is the password of the one entry of a .dockerconfigjson, for registryHost.
func tokenFor(t *testing.T, data []byte) string {
	t.Helper()
	cfg, err := dockerconfig.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	_, e, ok := cfg.Lookup(registryHost)
	c := e.Credentials()
	if !ok || c.Username != "token" || c.Password.Reveal() == "" {
		t.Fatalf("the Secret's config %v has no token for %s", cfg, registryHost)
	}
	return c.Password.Reveal()
}

// Only the Secret's own namespace's ServiceAccounts may be named, and only those the
// policy allows: any other Secret gets a Warning Event saying why, and its placeholder
// stays. Our own annotation keys work as the document's do.
func TestRefusals(t *testing.T) {
	k := testenv.StartKubeForKubelet(t)
	ctx := context.Background()
	ns := k.Namespace(t, "project-2")
	other := k.Namespace(t, "other")
	for _, n := range []struct{ ns, name string }{{ns, "builder"}, {other, "admin-sa"}, {ns, "puller"}} {
		if _, err := k.Client.CoreV1().ServiceAccounts(n.ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: n.name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	policy := func(_ context.Context, sa *corev1.ServiceAccount) error {
		if sa.Name == "builder" {
			return fmt.Errorf("it is not a pull ServiceAccount")
		}
		return nil
	}
	run(t, tokensecret.New(k.Client, tokenCatalog(t), tokensecret.WithNamespace(ns), tokensecret.WithPolicy(policy)))
	secret := func(name, key, sa string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{key: sa}},
			Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(placeholder)}}
	}
	for _, tc := range []struct {
		secret       *corev1.Secret
		reason, text string
	}{
		{secret("other-namespace", tokensecret.AnnotationServiceAccount, other+"/admin-sa"), tokensecret.ReasonNotAllowed, "only the Secret's own namespace's ServiceAccounts may be named"},
		{secret("policy", tokensecret.AnnotationServiceAccount, "builder"), tokensecret.ReasonNotAllowed, "it is not a pull ServiceAccount"},
		{secret("missing", tokensecret.DocumentPrefix+"service-account.name", "nobody"), tokensecret.ReasonNoServiceAccount, "does not exist"},
		{secret("ours", tokensecret.AnnotationServiceAccount, "puller"), tokensecret.ReasonFilled, "ServiceAccount puller"},
	} {
		if _, err := k.Client.CoreV1().Secrets(ns).Create(ctx, tc.secret, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, tc.secret.Name+": the "+tc.reason+" Event", 30*time.Second, func() ([]corev1.Event, error) {
			return eventsOf(t, k.Client, ns, tc.secret.Name), nil
		}, hasEvent(tc.reason, tc.text))
		s, err := k.Client.CoreV1().Secrets(ns).Get(ctx, tc.secret.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		filled := string(s.Data[corev1.DockerConfigJsonKey]) != placeholder
		if filled != (tc.reason == tokensecret.ReasonFilled) {
			t.Errorf("%s: filled = %v after %s", tc.secret.Name, filled, tc.reason)
		}
		if filled && s.Annotations[tokensecret.AnnotationExpiresAt] == "" {
			t.Errorf("%s: filled without our expires-at annotation: %v", tc.secret.Name, s.Annotations)
		}
	}
}

// A refresh that fails (here: the reconciler's identity may no longer request tokens)
// leaves the working Secret exactly as it was and says why in an Event.
func TestFailedRefreshKeepsTheSecret(t *testing.T) {
	k := testenv.StartKubeForKubelet(t)
	ctx := context.Background()
	ns := k.Namespace(t, "project-3")
	if _, err := k.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "my-pull-sa"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cat := tokenCatalog(t)
	clk := clock.NewFake(time.Now())
	stop := run(t, tokensecret.New(k.Client, cat, tokensecret.WithClock(clk), tokensecret.WithNamespace(ns)))
	if _, err := k.Client.CoreV1().Secrets(ns).Create(ctx, documentSecret(t), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	get := func() (*corev1.Secret, error) {
		return k.Client.CoreV1().Secrets(ns).Get(ctx, "my-pull-secret", metav1.GetOptions{})
	}
	working := waitFor(t, "the Secret filled", 30*time.Second, get, func(s *corev1.Secret) bool {
		return string(s.Data[corev1.DockerConfigJsonKey]) != placeholder
	})
	stop()

	// The limited user may read and update the namespace's Secrets and read its
	// ServiceAccounts and write Events, but not request tokens.
	limited := k.LimitedClient(t)
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "tokensecret-no-tokens"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch", "update"}},
		{APIGroups: []string{""}, Resources: []string{"serviceaccounts"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
	}}
	if _, err := k.Client.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Client.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: testenv.KubeLimitedUser}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	exp, _ := time.Parse(time.RFC3339, working.Annotations["payload-registry.deckhouse.io/expires-at"])
	clk2 := clock.NewFake(exp.Add(-time.Hour)) // past the refresh point, before the expiry
	run(t, tokensecret.New(limited, cat, tokensecret.WithClock(clk2), tokensecret.WithNamespace(ns)))
	waitFor(t, "the TokenRequestFailed Event", 30*time.Second, func() ([]corev1.Event, error) {
		return eventsOf(t, k.Client, ns, "my-pull-secret"), nil
	}, hasEvent(tokensecret.ReasonTokenFailed, "forbidden"))
	now, err := get()
	if err != nil {
		t.Fatal(err)
	}
	if string(now.Data[corev1.DockerConfigJsonKey]) != string(working.Data[corev1.DockerConfigJsonKey]) || now.ResourceVersion != working.ResourceVersion {
		t.Fatal("a failed refresh changed the working Secret")
	}
}
