package kube_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

var secretsGR = schema.GroupResource{Resource: "secrets"}

func TestSyncRereadsOnConflict(t *testing.T) {
	ctx := context.Background()
	client := fake.NewSimpleClientset()
	s := kube.NewSyncer(client)
	if _, err := s.Sync(ctx, []registry.Registry{ghcr("c", "old")}, []string{"ns"}); err != nil {
		t.Fatal(err)
	}
	var conflicts atomic.Int32
	client.PrependReactor("update", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if conflicts.Add(1) <= 2 {
			return true, nil, apierrors.NewConflict(secretsGR, "registry-secret-c", errors.New("the object has been modified"))
		}
		return false, nil, nil
	})
	res, err := s.Sync(ctx, []registry.Registry{ghcr("c", "new")}, []string{"ns"})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if got := res.Count(kube.Updated); got != 1 {
		t.Fatalf("updated %d, want 1", got)
	}
	if got := conflicts.Load(); got != 3 {
		t.Fatalf("%d update attempts, want 3 (two conflicts, then success)", got)
	}
	gets := 0
	for _, a := range client.Actions() {
		if a.GetVerb() == "get" && a.GetResource().Resource == "secrets" {
			gets++
		}
	}
	if gets != 2 {
		t.Fatalf("%d re-reads, want 2", gets)
	}
}

func TestSyncGivesUpAfterPersistentConflicts(t *testing.T) {
	ctx := context.Background()
	client := fake.NewSimpleClientset()
	s := kube.NewSyncer(client)
	if _, err := s.Sync(ctx, []registry.Registry{ghcr("c", "old")}, []string{"ns"}); err != nil {
		t.Fatal(err)
	}
	client.PrependReactor("update", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewConflict(secretsGR, "registry-secret-c", errors.New("modified"))
	})
	res, err := s.Sync(ctx, []registry.Registry{ghcr("c", "new")}, []string{"ns"})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("want ErrConflict, got %v", err)
	}
}

func TestSyncFallsBackToNamespaceLists(t *testing.T) {
	ctx := context.Background()
	client := fake.NewSimpleClientset()
	client.PrependReactor("list", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() == "" {
			return true, nil, apierrors.NewForbidden(secretsGR, "", errors.New("cannot list secrets at the cluster scope"))
		}
		return false, nil, nil
	})
	s := kube.NewSyncer(client)
	for i, want := range []kube.Action{kube.Created, kube.Unchanged} {
		res, err := s.Sync(ctx, []registry.Registry{ghcr("f", "x")}, []string{"a", "b"})
		if err != nil {
			t.Fatal(err)
		}
		if err := res.Err(); err != nil {
			t.Fatal(err)
		}
		if got := res.Count(want); got != 2 {
			t.Fatalf("pass %d: %d %s, want 2", i, got, want)
		}
	}
}

func TestSyncReplacesOwnedSecretOfWrongType(t *testing.T) {
	ctx := context.Background()
	old := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "registry-secret-t", Namespace: "ns", UID: "u1",
		Labels: map[string]string{kube.LabelManagedBy: kube.DefaultManagedBy}}, Type: corev1.SecretTypeOpaque}
	client := fake.NewSimpleClientset(old)
	res, err := kube.NewSyncer(client).Sync(ctx, []registry.Registry{ghcr("t", "x")}, []string{"ns"})
	if err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	got, err := client.CoreV1().Secrets("ns").Get(ctx, "registry-secret-t", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != corev1.SecretTypeDockerConfigJson || res.Count(kube.Created) != 1 {
		t.Fatalf("type %s, result\n%s", got.Type, res)
	}
}

func TestSyncCredentialFailureKeepsSecret(t *testing.T) {
	ctx := context.Background()
	client := fake.NewSimpleClientset()
	fail := atomic.Bool{}
	factory := func(r registry.Registry) (registry.Provider, error) {
		return registry.ProviderFunc(func(ctx context.Context) (registry.Credentials, error) {
			if fail.Load() {
				return registry.Credentials{}, &registry.Error{Op: "refresh", Registry: r.Name, Err: registry.ErrUnavailable}
			}
			return registry.Credentials{Username: "u", Password: "p1", ExpiresAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}, nil
		}), nil
	}
	s := kube.NewSyncer(client, kube.WithProviderFactory(factory), kube.WithPrune(true))
	reg := []registry.Registry{{ID: "ecr", Name: "ecr", Kind: registry.KindCustom, Server: "r.example.com"}}
	if res, err := s.Sync(ctx, reg, []string{"ns"}); err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	before, _ := client.CoreV1().Secrets("ns").Get(ctx, "registry-secret-ecr", metav1.GetOptions{})
	fail.Store(true)
	client.ClearActions()
	res, err := s.Sync(ctx, reg, []string{"ns"})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); !errors.Is(err, registry.ErrUnavailable) {
		t.Fatalf("want the provider's error, got %v", err)
	}
	for _, a := range client.Actions() {
		if a.GetVerb() != "list" && a.GetVerb() != "get" {
			t.Fatalf("a failed refresh wrote: %s %s", a.GetVerb(), a.GetResource().Resource)
		}
	}
	after, _ := client.CoreV1().Secrets("ns").Get(ctx, "registry-secret-ecr", metav1.GetOptions{})
	if d := cmp.Diff(before, after); d != "" {
		t.Fatalf("secret changed (-before +after):\n%s", d)
	}
}

func TestSyncDuplicateSecretNames(t *testing.T) {
	regs := []registry.Registry{ghcr("same", "a"), custom("same", "r.example.com", "b")}
	_, err := kube.NewSyncer(fake.NewSimpleClientset()).Sync(context.Background(), regs, []string{"ns"})
	if !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("want ErrConflict, got %v", err)
	}
}

func TestPublicRegistryHasNoSecret(t *testing.T) {
	pub := registry.Registry{ID: "pub", Name: "Public", Kind: registry.KindPublic, Server: "docker.io"}
	_, err := kube.Build(context.Background(), "ns", pub)
	if !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
	res, err := kube.NewSyncer(fake.NewSimpleClientset()).Sync(context.Background(), []registry.Registry{pub}, []string{"ns"})
	if err != nil || res.Writes != 0 {
		t.Fatalf("writes %v, err %v", res, err)
	}
}

func TestDefaultSecretName(t *testing.T) {
	for _, tc := range []struct {
		reg  registry.Registry
		want string
	}{
		{registry.Registry{ID: "reg-abc123"}, "registry-secret-reg-abc123"},
		{registry.Registry{ID: "Reg_ABC.1"}, "registry-secret-reg-abc-1"},
		{registry.Registry{Name: "My GHCR"}, "registry-secret-my-ghcr"},
		{registry.Registry{ID: "--"}, "registry-secret-unnamed"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := kube.DefaultSecretName(tc.reg); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	long := kube.DefaultSecretName(registry.Registry{ID: "x" + string(make([]byte, 0)) + "0123456789012345678901234567890123456789012345678901234567890123456789"})
	if len(long) > 63 {
		t.Fatalf("%q is longer than 63", long)
	}
}

func TestMergeImagePullSecrets(t *testing.T) {
	refs := func(names ...string) []corev1.LocalObjectReference {
		var out []corev1.LocalObjectReference
		for _, n := range names {
			out = append(out, corev1.LocalObjectReference{Name: n})
		}
		return out
	}
	for _, tc := range []struct {
		name        string
		in          []corev1.LocalObjectReference
		add, remove []string
		want        []corev1.LocalObjectReference
		changed     bool
	}{
		{"append keeps others", refs("theirs"), []string{"ours"}, nil, refs("theirs", "ours"), true},
		{"already there", refs("ours", "theirs"), []string{"ours"}, nil, refs("ours", "theirs"), false},
		{"remove ours only", refs("a", "ours", "b"), nil, []string{"ours"}, refs("a", "b"), true},
		{"empty", nil, []string{"x", "x"}, nil, refs("x"), true},
		{"others' duplicates kept", refs("a", "a"), nil, nil, refs("a", "a"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := kube.MergeImagePullSecrets(tc.in, tc.add, tc.remove)
			if d := cmp.Diff(tc.want, got); d != "" || changed != tc.changed {
				t.Fatalf("changed=%v (-want +got):\n%s", changed, d)
			}
		})
	}
	spec := &corev1.PodSpec{ImagePullSecrets: refs("theirs")}
	if !kube.AddImagePullSecrets(spec, "ours") || kube.AddImagePullSecrets(spec, "ours") {
		t.Fatal("AddImagePullSecrets is not idempotent")
	}
	if d := cmp.Diff(refs("theirs", "ours"), spec.ImagePullSecrets); d != "" {
		t.Fatal(d)
	}
}

func TestWildcardRegistryNeedsHost(t *testing.T) {
	ctx := context.Background()
	acr := registry.Registry{ID: "acr", Name: "ACR", Kind: registry.KindACR, Server: "*.azurecr.io",
		Fields: map[string]string{"username": "sp", "password": "pw"}}
	if _, err := kube.Build(ctx, "ns", acr); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("want ErrInvalid naming the missing host, got %v", err)
	}
	client := fake.NewSimpleClientset()
	withHost := kube.WithDockerConfigOptions(dockerconfig.WithHost("acr", "myreg.azurecr.io"))
	if res, err := kube.NewSyncer(client, withHost).Sync(ctx, []registry.Registry{acr}, []string{"ns"}); err != nil || res.Count(kube.Created) != 1 {
		t.Fatalf("with host: %v %v", err, res)
	}
	// Forgetting the host later fails the registry; it does not prune its Secret.
	res, err := kube.NewSyncer(client, kube.WithPrune(true)).Sync(ctx, []registry.Registry{acr}, []string{"ns"})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res.Err(), registry.ErrInvalid) || res.Count(kube.Pruned) != 0 {
		t.Fatalf("got %v\n%s", res.Err(), res)
	}
	if _, err := client.CoreV1().Secrets("ns").Get(ctx, "registry-secret-acr", metav1.GetOptions{}); err != nil {
		t.Fatal("the secret was removed")
	}
}

func TestSyncRefusesPruneWithoutNamespaces(t *testing.T) {
	client := fake.NewSimpleClientset()
	s := kube.NewSyncer(client, kube.WithPrune(true))
	_, err := s.Sync(context.Background(), nil, nil)
	if !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), "name the namespaces") {
		t.Fatalf("Sync with prune and no namespaces: %v, want ErrInvalid saying what to do", err)
	}
	if n := len(client.Actions()); n != 0 {
		t.Fatalf("the refused pass made %d API calls", n)
	}
}
