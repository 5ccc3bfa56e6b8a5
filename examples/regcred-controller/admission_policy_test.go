package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/kube"
)

// The policies of deploy/admission-policy.yaml; each has a binding of the same name.
const (
	secretsPolicy         = "regcred-controller-secrets"
	serviceAccountsPolicy = "regcred-controller-serviceaccounts"
)

// policyDenial is how the API server words a write refused by policy. A refusal that does
// not name the policy and its binding (RBAC's, or another policy's) does not count.
func policyDenial(policy string) string {
	return "ValidatingAdmissionPolicy '" + policy + "' with binding '" + policy + "' denied request"
}

// refusal is what a policy says when it refuses a write.
type refusal struct{ policy, says string }

// deployController applies the manifests (namespace, ServiceAccount, RBAC, admission
// policy) as they are, asks a token for the controller's ServiceAccount (TokenRequest), and
// returns a client acting with that token, and the token, once both policies are enforced:
// their expressions type-checked against their kind without a warning, and a write each
// forbids, made with the token, is refused in its name.
func deployController(ctx context.Context, t *testing.T, k *testenv.Kube) (kubernetes.Interface, string) {
	t.Helper()
	k.RequireControllerManager(t) // it type-checks policies into their status
	for _, f := range []string{"namespace.yaml", "serviceaccount.yaml", "rbac.yaml", "admission-policy.yaml"} {
		apply(ctx, t, k.Client, manifest(t, f))
	}
	tr, err := k.Client.CoreV1().ServiceAccounts(systemNS).CreateToken(ctx, "regcred-controller",
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := k.AdminConfig()
	cfg.BearerToken = tr.Status.Token
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{secretsPolicy, serviceAccountsPolicy} {
		fixture.Eventually(t, 30*time.Second, "policy "+name+" type-checked", func() error {
			p, err := k.Client.AdmissionregistrationV1().ValidatingAdmissionPolicies().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if p.Status.ObservedGeneration != p.Generation || p.Status.TypeChecking == nil {
				return fmt.Errorf("status %+v of generation %d", p.Status, p.Generation)
			}
			if w := p.Status.TypeChecking.ExpressionWarnings; len(w) > 0 {
				t.Fatalf("the expressions of policy %s do not type-check: %+v", name, w)
			}
			return nil
		})
	}
	// A server-side dry run goes through admission and writes nothing: RBAC allows these,
	// so until the policies are enforced they succeed. Each probe breaks several rules, so
	// that the tests of each rule, not this wait, catch a rule gone missing.
	probe := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "policy-probe"}, StringData: map[string]string{"k": "v"}}
	dryRun := []string{metav1.DryRunAll}
	fixture.Eventually(t, 30*time.Second, "policy "+secretsPolicy+" enforced on the controller's token", func() error {
		_, err := c.CoreV1().Secrets(systemNS).Create(ctx, probe, metav1.CreateOptions{DryRun: dryRun})
		if err == nil || !strings.Contains(err.Error(), policyDenial(secretsPolicy)) {
			return fmt.Errorf("a dry-run Opaque Secret: %v", err)
		}
		return nil
	})
	fixture.Eventually(t, 30*time.Second, "policy "+serviceAccountsPolicy+" enforced on the controller's token", func() error {
		sa, err := c.CoreV1().ServiceAccounts(systemNS).Get(ctx, "regcred-controller", metav1.GetOptions{})
		if err != nil {
			return err
		}
		sa.Labels["policy-probe"] = "x"
		sa.ImagePullSecrets = append(sa.ImagePullSecrets, corev1.LocalObjectReference{Name: "policy-probe"})
		_, err = c.CoreV1().ServiceAccounts(systemNS).Update(ctx, sa, metav1.UpdateOptions{DryRun: dryRun})
		if err == nil || !strings.Contains(err.Error(), policyDenial(serviceAccountsPolicy)) {
			return fmt.Errorf("a dry-run ServiceAccount update: %v", err)
		}
		return nil
	})
	return c, tr.Status.Token
}

// dockerSecret is a kubernetes.io/dockerconfigjson Secret named name with labels.
func dockerSecret(name string, labels map[string]string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"registry.example":{"auth":"Ym90OnB3"}}}`)},
	}
}

// requireDenied checks that err is want's refusal.
func requireDenied(t *testing.T, what string, err error, want refusal) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: allowed; want it denied by policy %s", what, want.policy)
	case !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), policyDenial(want.policy)) || !strings.Contains(err.Error(), want.says):
		t.Errorf("%s: %v; want policy %s's refusal saying %q", what, err, want.policy, want.says)
	}
}

// TestAdmissionPolicyStopsTheEscalation replays issue 19's escalation on the real API
// server: with create on every Secret (RBAC cannot narrow it), the controller's
// ServiceAccount makes a kubernetes.io/service-account-token Secret for a cluster-admin
// ServiceAccount; the token controller fills it in; whoever reads it is cluster-admin. The
// test first shows that the path is open in this cluster (RBAC allows the create; such a
// Secret, made by the admin, yields a cluster-admin token), then that the policy refuses
// the controller's own attempts and nothing is created.
func TestAdmissionPolicyStopsTheEscalation(t *testing.T) {
	k := testenv.StartKube(t)
	k.RequireControllerManager(t) // the token controller fills service-account-token Secrets
	ctx := context.Background()
	ctl, _ := deployController(ctx, t, k)
	ns := k.Namespace(t, "escalate")

	// A cluster-admin ServiceAccount, as a CI system's.
	if _, err := k.PutServiceAccount(ctx, ns, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "ci-deployer"}}); err != nil {
		t.Fatal(err)
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "ci-deployer-" + ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "ci-deployer", Namespace: ns}},
	}
	if _, err := k.Client.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = k.Client.RbacV1().ClusterRoleBindings().Delete(context.Background(), crb.Name, metav1.DeleteOptions{})
	})
	tokenSecret := func(name string, labels map[string]string) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: map[string]string{corev1.ServiceAccountNameKey: "ci-deployer"}},
			Type:       corev1.SecretTypeServiceAccountToken,
		}
	}

	// The path is open without the policy: RBAC lets the controller create the Secret...
	if !controllerMay(ctx, t, k, authzv1.ResourceAttributes{Verb: "create", Resource: "secrets", Namespace: ns}) {
		t.Fatal("RBAC does not let the controller create Secrets: this test would prove nothing")
	}
	// ...and the Secret is a cluster-admin token here (made by the admin, then deleted).
	ref, err := k.Client.CoreV1().Secrets(ns).Create(ctx, tokenSecret("ci-deployer-reference", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var stolen []byte
	fixture.Eventually(t, 30*time.Second, "the token controller fills the Secret", func() error {
		s, err := k.Client.CoreV1().Secrets(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if stolen = s.Data[corev1.ServiceAccountTokenKey]; len(stolen) == 0 {
			return fmt.Errorf("no token yet")
		}
		return nil
	})
	cfg := k.AdminConfig()
	cfg.BearerToken = string(stolen)
	thief, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := thief.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authzv1.ResourceAttributes{Verb: "*", Group: "*", Resource: "*"}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rev.Status.Allowed {
		t.Fatalf("the token Secret's token is not cluster-admin (%+v): this test would prove nothing", rev.Status)
	}
	if err := k.Client.CoreV1().Secrets(ns).Delete(ctx, ref.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	// With the policy, the controller cannot make one, whatever it names or labels it.
	for _, s := range []*corev1.Secret{
		tokenSecret("ci-deployer-token", nil),
		tokenSecret("registry-secret-ci-deployer", map[string]string{kube.LabelManagedBy: kube.DefaultManagedBy}),
	} {
		_, err := ctl.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{})
		requireDenied(t, "a service-account-token Secret "+s.Name+" for a cluster-admin ServiceAccount", err, refusal{secretsPolicy, "not kubernetes.io/service-account-token"})
		if _, err := k.Client.CoreV1().Secrets(ns).Get(ctx, s.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("secret %s exists after the refusal: %v", s.Name, err)
		}
	}
	// Nor in its own namespace, for its own ServiceAccount.
	own := tokenSecret("regcred-controller-token", nil)
	own.Annotations[corev1.ServiceAccountNameKey] = "regcred-controller"
	_, err = ctl.CoreV1().Secrets(systemNS).Create(ctx, own, metav1.CreateOptions{})
	requireDenied(t, "a long-lived token Secret for itself", err, refusal{secretsPolicy, "not kubernetes.io/service-account-token"})
}

// TestAdmissionPolicyDeniesWritesTheControllerMustNotMake makes, with the controller's
// own token, each write of its job (which must pass: otherwise a policy refusing
// everything would pass the rest) and each write RBAC allows but the policy must refuse,
// and checks that the refused ones changed nothing.
func TestAdmissionPolicyDeniesWritesTheControllerMustNotMake(t *testing.T) {
	k := testenv.StartKube(t)
	ctx := context.Background()
	ctl, _ := deployController(ctx, t, k)
	ns := k.Namespace(t, "confined")
	admin := k.Client.CoreV1().Secrets(ns)
	secrets := ctl.CoreV1().Secrets(ns)
	sas := ctl.CoreV1().ServiceAccounts(ns)

	// Others' objects: a pull Secret without the label, one managed by another tool,
	// an Opaque Secret, and a ServiceAccount with content in every field.
	for _, s := range []*corev1.Secret{
		dockerSecret("registry-secret-theirs", nil),
		dockerSecret("registry-secret-helm", map[string]string{kube.LabelManagedBy: "Helm"}),
		{ObjectMeta: metav1.ObjectMeta{Name: "app-config"}, StringData: map[string]string{"k": "v"}},
	} {
		if _, err := admin.Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	builder, err := k.PutServiceAccount(ctx, ns, &corev1.ServiceAccount{
		ObjectMeta:                   metav1.ObjectMeta{Name: "builder", Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"owner": "a"}},
		Secrets:                      []corev1.ObjectReference{{Name: "builder-token"}},
		ImagePullSecrets:             []corev1.LocalObjectReference{{Name: "their-pull"}},
		AutomountServiceAccountToken: ptr(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	owned := map[string]string{kube.LabelManagedBy: kube.DefaultManagedBy}
	// A ClusterRole grown by mistake, in this namespace only: create and delete ServiceAccounts.
	widened := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "widened"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"serviceaccounts"}, Verbs: []string{"create", "delete"}}}}
	if _, err := k.Client.RbacV1().Roles(ns).Create(ctx, widened, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Client.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "widened"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "widened"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "regcred-controller", Namespace: systemNS}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	fixture.Eventually(t, 10*time.Second, "the widened RBAC in force", func() error {
		if !controllerMay(ctx, t, k, authzv1.ResourceAttributes{Verb: "delete", Resource: "serviceaccounts", Namespace: ns}) {
			return fmt.Errorf("not yet")
		}
		return nil
	})

	// The controller's job passes.
	if _, err := secrets.Create(ctx, dockerSecret("registry-secret-own", owned), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create its own pull Secret: %v", err)
	}
	if _, err := secrets.Create(ctx, dockerSecret("registry-secret-other-platform", map[string]string{kube.LabelManagedBy: "regcred-platform-b"}), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create a pull Secret with --managed-by regcred-platform-b: %v", err)
	}
	mutate := func(name string, change func(*corev1.Secret)) error {
		s, err := secrets.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		change(s)
		_, err = secrets.Update(ctx, s, metav1.UpdateOptions{})
		return err
	}
	if err := mutate("registry-secret-own", func(s *corev1.Secret) {
		s.Data[corev1.DockerConfigJsonKey] = []byte(`{"auths":{"registry.example":{"auth":"Ym90OnJvdGF0ZWQ="}}}`)
		s.Annotations = map[string]string{kube.AnnotationExpiresAt: "2030-01-01T00:00:00Z"}
	}); err != nil {
		t.Fatalf("rotate its own pull Secret: %v", err)
	}
	mutateSA := func(change func(*corev1.ServiceAccount)) error {
		sa, err := sas.Get(ctx, "builder", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		change(sa)
		_, err = sas.Update(ctx, sa, metav1.UpdateOptions{})
		return err
	}
	if err := mutateSA(func(sa *corev1.ServiceAccount) {
		sa.ImagePullSecrets = append(sa.ImagePullSecrets, corev1.LocalObjectReference{Name: "registry-secret-own"})
	}); err != nil {
		t.Fatalf("add its Secret to a ServiceAccount's imagePullSecrets: %v", err)
	}

	// And nothing else does.
	var (
		typeOnly  = refusal{secretsPolicy, "only Secrets of type kubernetes.io/dockerconfigjson"}
		labelOnly = refusal{secretsPolicy, "only Secrets labelled app.kubernetes.io/managed-by=regcred"}
		nameOnly  = refusal{secretsPolicy, "only Secrets named registry-secret-*"}
		ownedOnly = refusal{secretsPolicy, "update or delete only Secrets already labelled"}
		saFields  = refusal{serviceAccountsPolicy, "change only imagePullSecrets of a ServiceAccount"}
		saEntries = refusal{serviceAccountsPolicy, "only its own registry-secret-* entries"}
		saCreate  = refusal{serviceAccountsPolicy, "may not create or delete ServiceAccounts"}
	)
	opaque := dockerSecret("registry-secret-opaque", owned)
	opaque.Type, opaque.Data = corev1.SecretTypeOpaque, map[string][]byte{"k": []byte("v")}
	basicAuth := dockerSecret("registry-secret-basic", owned)
	basicAuth.Type, basicAuth.Data = corev1.SecretTypeBasicAuth, map[string][]byte{"username": []byte("u"), "password": []byte("p")}
	for _, c := range []struct {
		what string
		do   func() error
		want refusal
	}{
		{"create an Opaque Secret with its label", func() error {
			_, err := secrets.Create(ctx, opaque, metav1.CreateOptions{})
			return err
		}, typeOnly},
		{"create a basic-auth Secret with its label", func() error {
			_, err := secrets.Create(ctx, basicAuth, metav1.CreateOptions{})
			return err
		}, typeOnly},
		{"create a pull Secret without the label", func() error {
			_, err := secrets.Create(ctx, dockerSecret("registry-secret-unlabelled", nil), metav1.CreateOptions{})
			return err
		}, labelOnly},
		{"create a pull Secret labelled as another tool's", func() error {
			_, err := secrets.Create(ctx, dockerSecret("registry-secret-helmish", map[string]string{kube.LabelManagedBy: "Helm"}), metav1.CreateOptions{})
			return err
		}, labelOnly},
		{"create a labelled pull Secret under a name not its own", func() error {
			_, err := secrets.Create(ctx, dockerSecret("ci-pull", owned), metav1.CreateOptions{})
			return err
		}, nameOnly},
		{"drop the label of its own Secret", func() error {
			return mutate("registry-secret-own", func(s *corev1.Secret) { delete(s.Labels, kube.LabelManagedBy) })
		}, labelOnly},
		{"relabel its own Secret as another tool's", func() error {
			return mutate("registry-secret-own", func(s *corev1.Secret) {
				s.Labels = map[string]string{kube.LabelManagedBy: "Helm"}
			})
		}, labelOnly},
		{"take over an unlabelled pull Secret by labelling it", func() error {
			return mutate("registry-secret-theirs", func(s *corev1.Secret) { s.Labels = owned })
		}, ownedOnly},
		{"take over another tool's pull Secret", func() error {
			return mutate("registry-secret-helm", func(s *corev1.Secret) { s.Labels[kube.LabelManagedBy] = kube.DefaultManagedBy })
		}, ownedOnly},
		{"rewrite another tool's pull Secret, label kept", func() error {
			return mutate("registry-secret-helm", func(s *corev1.Secret) { s.Data[corev1.DockerConfigJsonKey] = []byte(`{"auths":{}}`) })
		}, labelOnly},
		{"delete an unlabelled pull Secret", func() error {
			return secrets.Delete(ctx, "registry-secret-theirs", metav1.DeleteOptions{})
		}, ownedOnly},
		{"delete an Opaque Secret", func() error {
			return secrets.Delete(ctx, "app-config", metav1.DeleteOptions{})
		}, ownedOnly},
		{"change a ServiceAccount's secrets", func() error {
			return mutateSA(func(sa *corev1.ServiceAccount) {
				sa.Secrets = append(sa.Secrets, corev1.ObjectReference{Name: "stolen"})
			})
		}, saFields},
		{"turn on a ServiceAccount's token automount", func() error {
			return mutateSA(func(sa *corev1.ServiceAccount) { sa.AutomountServiceAccountToken = ptr(true) })
		}, saFields},
		{"drop a ServiceAccount's automount setting", func() error {
			return mutateSA(func(sa *corev1.ServiceAccount) { sa.AutomountServiceAccountToken = nil })
		}, saFields},
		{"change a ServiceAccount's labels", func() error {
			return mutateSA(func(sa *corev1.ServiceAccount) { sa.Labels["team"] = "b" })
		}, saFields},
		{"change a ServiceAccount's annotations", func() error {
			return mutateSA(func(sa *corev1.ServiceAccount) {
				sa.Annotations["kubernetes.io/enforce-mountable-secrets"] = "false"
			})
		}, saFields},
		{"add a finalizer to a ServiceAccount", func() error {
			return mutateSA(func(sa *corev1.ServiceAccount) { sa.Finalizers = append(sa.Finalizers, "example.com/hold") })
		}, saFields},
		{"give a ServiceAccount an owner", func() error {
			return mutateSA(func(sa *corev1.ServiceAccount) {
				sa.OwnerReferences = append(sa.OwnerReferences, metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "x", UID: "00000000-0000-0000-0000-000000000001"})
			})
		}, saFields},
		// RBAC refuses these first; the policy holds should the ClusterRole ever grow (the
		// RoleBinding above widens it in this namespace).
		{"create a ServiceAccount, RBAC widened", func() error {
			_, err := sas.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "impostor"}}, metav1.CreateOptions{})
			return err
		}, saCreate},
		{"delete a ServiceAccount, RBAC widened", func() error {
			return sas.Delete(ctx, "builder", metav1.DeleteOptions{})
		}, saCreate},
		{"remove someone else's imagePullSecrets entry", func() error {
			return mutateSA(func(sa *corev1.ServiceAccount) { sa.ImagePullSecrets = without(sa.ImagePullSecrets, "their-pull") })
		}, saEntries},
		{"add an imagePullSecrets entry not its own", func() error {
			return mutateSA(func(sa *corev1.ServiceAccount) {
				sa.ImagePullSecrets = append(sa.ImagePullSecrets, corev1.LocalObjectReference{Name: "app-config"})
			})
		}, saEntries},
	} {
		requireDenied(t, c.what, c.do(), c.want)
	}

	// The refusals changed nothing.
	for name, wantLabel := range map[string]string{"registry-secret-theirs": "", "registry-secret-helm": "Helm", "registry-secret-own": kube.DefaultManagedBy, "app-config": ""} {
		s, err := admin.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("secret %s: %v", name, err)
			continue
		}
		if got := s.Labels[kube.LabelManagedBy]; got != wantLabel {
			t.Errorf("secret %s is managed by %q, want %q", name, got, wantLabel)
		}
	}
	for _, name := range []string{"registry-secret-opaque", "registry-secret-basic", "registry-secret-unlabelled", "registry-secret-helmish", "ci-pull"} {
		if _, err := admin.Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("secret %s exists after the refusal: %v", name, err)
		}
	}
	got, err := k.Client.CoreV1().ServiceAccounts(ns).Get(ctx, "builder", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := builder.DeepCopy()
	want.ImagePullSecrets = append(want.ImagePullSecrets, corev1.LocalObjectReference{Name: "registry-secret-own"})
	writable := cmpopts.IgnoreFields(metav1.ObjectMeta{}, "ResourceVersion", "ManagedFields")
	if d := cmp.Diff(want, got, writable); d != "" {
		t.Errorf("serviceaccount builder changed beyond its entry (-want +got):\n%s", d)
	}

	// Its own Secrets it may remove, and drop from the ServiceAccount.
	if err := mutateSA(func(sa *corev1.ServiceAccount) {
		sa.ImagePullSecrets = without(sa.ImagePullSecrets, "registry-secret-own")
	}); err != nil {
		t.Errorf("remove its entry from imagePullSecrets: %v", err)
	}
	for _, name := range []string{"registry-secret-own", "registry-secret-other-platform"} {
		if err := secrets.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete its own Secret %s: %v", name, err)
		}
	}
}

// without returns refs without the entries named name.
func without(refs []corev1.LocalObjectReference, name string) []corev1.LocalObjectReference {
	return slices.DeleteFunc(slices.Clone(refs), func(r corev1.LocalObjectReference) bool { return r.Name == name })
}

// TestControllerWorksUnderTheAdmissionPolicy runs the controller with its own token, the
// manifests' RBAC and the admission policy enforced, against a Catalog of one registry:
// its pull Secret appears in a selected namespace, the ServiceAccount lists it, and no
// write of the controller was refused.
func TestControllerWorksUnderTheAdmissionPolicy(t *testing.T) {
	k := testenv.StartKube(t)
	k.RequireControllerManager(t) // the "default" ServiceAccount of a new namespace
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kubeconfig, regs := serviceAccountSetup(ctx, t, k) // returns once the policy is enforced
	key, val := k.Selector(t)
	var logs syncWriter
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--kubeconfig", kubeconfig, "--registries", regs,
			"--namespace-selector", key + "=" + val, "--listen", ""}, &logs, nil)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v\n%s", err, logs.String())
		}
	}()
	ns := k.LabeledNamespaces(t, "admitted", 1, map[string]string{key: val})[0]
	const secret = "registry-secret-acme"
	fixture.Eventually(t, 20*time.Second, "the pull Secret written under the policy", func() error {
		s, err := k.Client.CoreV1().Secrets(ns).Get(ctx, secret, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if s.Type != corev1.SecretTypeDockerConfigJson || !kube.Owned(s, "") || !strings.Contains(string(s.Data[corev1.DockerConfigJsonKey]), "s3cret-rbac") {
			return fmt.Errorf("secret %s: type %s, labels %v", secret, s.Type, s.Labels)
		}
		return nil
	})
	fixture.Eventually(t, 20*time.Second, "the ServiceAccount patched under the policy", func() error {
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
	})
	if l := logs.String(); strings.Contains(l, "denied request") || strings.Contains(l, "forbidden") {
		t.Errorf("the controller was refused a write:\n%s", l)
	}
}
