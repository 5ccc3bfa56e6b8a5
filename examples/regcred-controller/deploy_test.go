package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/internal/testenv"
)

func TestMain(m *testing.M) { testenv.KubeMain(m) }

const systemNS = "regcred-system"

// manifest decodes one deploy/ file into its objects, in order.
func manifest(t *testing.T, name string) []runtime.Object {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("deploy", name))
	if err != nil {
		t.Fatal(err)
	}
	var out []runtime.Object
	for i, doc := range strings.Split(string(b), "\n---\n") {
		empty := true
		for _, line := range strings.Split(doc, "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
				empty = false
			}
		}
		if empty {
			continue
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("deploy/%s document %d: %v", name, i+1, err)
		}
		out = append(out, obj)
	}
	return out
}

// apply creates each object through client-go (there is no kubectl); an object that
// exists is left as is (the control plane is shared by the test binary).
func apply(ctx context.Context, t *testing.T, c kubernetes.Interface, objs []runtime.Object) {
	t.Helper()
	for _, obj := range objs {
		var err error
		switch o := obj.(type) {
		case *corev1.Namespace:
			_, err = c.CoreV1().Namespaces().Create(ctx, o, metav1.CreateOptions{})
		case *corev1.ServiceAccount:
			_, err = c.CoreV1().ServiceAccounts(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.ClusterRole:
			_, err = c.RbacV1().ClusterRoles().Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.ClusterRoleBinding:
			_, err = c.RbacV1().ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.Role:
			_, err = c.RbacV1().Roles(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.RoleBinding:
			_, err = c.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *admissionv1.ValidatingAdmissionPolicy:
			_, err = c.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, o, metav1.CreateOptions{})
		case *admissionv1.ValidatingAdmissionPolicyBinding:
			_, err = c.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(ctx, o, metav1.CreateOptions{})
		default:
			t.Fatalf("apply: no case for %T", obj)
		}
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("apply %T: %v", obj, err)
		}
	}
}

func TestDeploymentPassesServerSideDryRun(t *testing.T) {
	k := testenv.StartKube(t)
	ctx := context.Background()
	apply(ctx, t, k.Client, manifest(t, "namespace.yaml"))
	objs := manifest(t, "deployment.yaml")
	d, ok := objs[0].(*appsv1.Deployment)
	if !ok || len(objs) != 1 {
		t.Fatalf("deployment.yaml holds %d objects, the first a %T", len(objs), objs[0])
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Fatalf("replicas %v, want 2", d.Spec.Replicas)
	}
	args := strings.Join(d.Spec.Template.Spec.Containers[0].Args, " ")
	if _, err := parse(d.Spec.Template.Spec.Containers[0].Args, io.Discard); err != nil {
		t.Fatalf("the Deployment's args %q do not parse: %v", args, err)
	}
	got, err := k.Client.AppsV1().Deployments(systemNS).Create(ctx, d, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Fatalf("server-side dry run: %v", err)
	}
	if got.Spec.Template.Spec.ServiceAccountName != "regcred-controller" {
		t.Fatalf("service account %q", got.Spec.Template.Spec.ServiceAccountName)
	}
	if _, err := k.Client.AppsV1().Deployments(systemNS).Get(ctx, d.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the dry run created the Deployment: %v", err)
	}
}

// TestRBACIsEnoughAndNoMore applies the manifests' ServiceAccount and RBAC, runs the
// controller with that ServiceAccount's token, and checks it does its job (create,
// repair, patch, prune, Events, the Lease) and may do nothing else.
func TestRBACIsEnoughAndNoMore(t *testing.T) {
	k := testenv.StartKube(t)
	k.RequireControllerManager(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kubeconfig, regs := serviceAccountSetup(ctx, t, k)
	key, val := k.Selector(t)
	managedBy := "regcred-" + val
	addr := make(chan string, 1)
	done := make(chan error, 1)
	var logs syncWriter
	go func() {
		done <- run(ctx, []string{"--kubeconfig", kubeconfig, "--registries", regs,
			"--namespace-selector", key + "=" + val, "--managed-by", managedBy,
			"--leader-elect", "--leader-elect-namespace", systemNS, "--leader-elect-identity", "rbac-test",
			"--lease-duration", "4s", "--renew-deadline", "3s", "--retry-period", "500ms",
			"--listen", "127.0.0.1:0"}, &logs, func(a string) { addr <- a })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v\n%s", err, logs.String())
		}
	}()
	base := "http://" + <-addr
	fixture.Eventually(t, 20*time.Second, "ready and leading", func() error {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "leading") {
			return fmt.Errorf("%d %s", resp.StatusCode, b)
		}
		return nil
	})
	const secret = "registry-secret-acme"
	nss := k.LabeledNamespaces(t, "rbac", 2, map[string]string{key: val})
	ns := nss[0]
	sec := k.Client.CoreV1().Secrets(ns)
	hasSecret := func() error {
		s, err := sec.Get(ctx, secret, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !strings.Contains(string(s.Data[corev1.DockerConfigJsonKey]), "s3cret-rbac") {
			return fmt.Errorf("secret content")
		}
		return nil
	}
	saLists := func() error {
		sa, err := k.Client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, r := range sa.ImagePullSecrets {
			if r.Name == secret {
				return nil
			}
		}
		return fmt.Errorf("default lists %v", sa.ImagePullSecrets)
	}
	fixture.Eventually(t, 10*time.Second, "secret created with the ServiceAccount's rights", hasSecret)
	fixture.Eventually(t, 10*time.Second, "serviceaccount patched with the ServiceAccount's rights", saLists)
	if err := sec.Delete(ctx, secret, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	fixture.Eventually(t, 10*time.Second, "deleted secret restored", hasSecret)

	// Someone else's Secret under the name: an Event, recorded with the ServiceAccount's rights.
	other := nss[1]
	fixture.Eventually(t, 10*time.Second, "second namespace synced", func() error {
		_, err := k.Client.CoreV1().Secrets(other).Get(ctx, secret, metav1.GetOptions{})
		return err
	})
	theirs := k.Namespace(t, "rbac-theirs")
	if _, err := k.Client.CoreV1().Secrets(theirs).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secret}, StringData: map[string]string{"x": "y"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	n, err := k.Client.CoreV1().Namespaces().Get(ctx, theirs, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Labels[key] = val
	if _, err := k.Client.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	fixture.Eventually(t, 10*time.Second, "conflict Event recorded", func() error {
		evs, err := k.Client.CoreV1().Events(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + theirs})
		if err != nil {
			return err
		}
		if len(evs.Items) == 0 {
			return fmt.Errorf("no event")
		}
		return nil
	})

	// Prune: the namespace leaves the selector.
	n, err = k.Client.CoreV1().Namespaces().Get(ctx, other, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	delete(n.Labels, key)
	if _, err := k.Client.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	fixture.Eventually(t, 10*time.Second, "pruned with the ServiceAccount's rights", func() error {
		if _, err := k.Client.CoreV1().Secrets(other).Get(ctx, secret, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there: %v", err)
		}
		return nil
	})
	if _, err := k.Client.CoordinationV1().Leases(systemNS).Get(ctx, "regcred-controller", metav1.GetOptions{}); err != nil {
		t.Fatalf("the lease: %v", err)
	}
	if strings.Contains(logs.String(), "forbidden") {
		t.Fatalf("the controller was refused something:\n%s", logs.String())
	}

	// Enough (issue 23: without these, a wrong user name would make every "no more" check
	// below pass): each right the controller uses, reviewed for the same identity.
	for _, a := range []authzv1.ResourceAttributes{
		{Verb: "get", Resource: "namespaces"},
		{Verb: "list", Resource: "namespaces"},
		{Verb: "watch", Resource: "namespaces"},
		{Verb: "get", Resource: "secrets", Namespace: ns},
		{Verb: "list", Resource: "secrets"},
		{Verb: "watch", Resource: "secrets"},
		{Verb: "create", Resource: "secrets", Namespace: ns},
		{Verb: "update", Resource: "secrets", Namespace: ns},
		{Verb: "delete", Resource: "secrets", Namespace: ns},
		{Verb: "list", Resource: "serviceaccounts"},
		{Verb: "watch", Resource: "serviceaccounts"},
		{Verb: "update", Resource: "serviceaccounts", Namespace: ns},
		{Verb: "list", Resource: "pods"},
		{Verb: "watch", Resource: "pods"},
		{Verb: "create", Resource: "events", Namespace: metav1.NamespaceDefault},
		{Verb: "patch", Resource: "events", Namespace: ns},
		{Verb: "create", Group: "coordination.k8s.io", Resource: "leases", Namespace: systemNS},
		{Verb: "get", Group: "coordination.k8s.io", Resource: "leases", Name: "regcred-controller", Namespace: systemNS},
		{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Name: "regcred-controller", Namespace: systemNS},
	} {
		if !controllerMay(ctx, t, k, a) {
			t.Errorf("the controller may not %s %s %s in %q: it needs to", a.Verb, a.Resource, a.Name, a.Namespace)
		}
	}
	// And no more.
	for _, a := range []authzv1.ResourceAttributes{
		{Verb: "create", Resource: "pods", Namespace: ns},
		{Verb: "delete", Resource: "pods", Namespace: ns},
		{Verb: "delete", Resource: "namespaces"},
		{Verb: "update", Resource: "namespaces"},
		{Verb: "delete", Resource: "serviceaccounts", Namespace: ns},
		{Verb: "create", Resource: "serviceaccounts", Namespace: ns},
		{Verb: "create", Resource: "serviceaccounts", Subresource: "token", Namespace: ns},
		{Verb: "update", Resource: "configmaps", Namespace: ns},
		{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Name: "kube-controller-manager", Namespace: "kube-system"},
		{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Name: "someone-else", Namespace: systemNS},
		{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"},
		{Verb: "patch", Resource: "nodes"},
	} {
		if controllerMay(ctx, t, k, a) {
			t.Errorf("the controller may %s %s/%s %s in %q: more than it needs", a.Verb, a.Resource, a.Subresource, a.Name, a.Namespace)
		}
	}
}

// controllerUser is the user name of the manifests' ServiceAccount.
const controllerUser = "system:serviceaccount:" + systemNS + ":regcred-controller"

// controllerMay asks the API server's authorizer whether the manifests' ServiceAccount may
// do a (a SubjectAccessReview for its user and groups).
func controllerMay(ctx context.Context, t *testing.T, k *testenv.Kube, a authzv1.ResourceAttributes) bool {
	t.Helper()
	rev, err := k.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
		User: controllerUser, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + systemNS, "system:authenticated"}, ResourceAttributes: &a}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rev.Status.Allowed
}

// serviceAccountSetup applies the manifests' ServiceAccount, RBAC and admission policy
// (deployController) and returns a kubeconfig with that ServiceAccount's token and a
// registries file.
func serviceAccountSetup(ctx context.Context, t *testing.T, k *testenv.Kube) (kubeconfig, regs string) {
	t.Helper()
	_, token := deployController(ctx, t, k)
	dir := t.TempDir()
	kubeconfig = filepath.Join(dir, "kubeconfig")
	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, k.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: %q, certificate-authority: %q}}]
users: [{name: sa, user: {token: %q}}]
contexts: [{name: test, context: {cluster: test, user: sa}}]
current-context: test
`, k.URL, caFile, token)), 0o600); err != nil {
		t.Fatal(err)
	}
	regs = filepath.Join(dir, "registries.yaml")
	if err := os.WriteFile(regs, []byte(`registries:
  - name: Acme
    type: Custom
    url: registry.acme.example
    credentials: {username: bot, password: s3cret-rbac}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return kubeconfig, regs
}

func ptr[T any](v T) *T { return &v }

type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
