package kube_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

// TestSecretCarriesNothingDerivedFromTheCredentials: no annotation or label of a pull
// Secret is a hash (or any other function) of its data: anyone allowed to describe the
// Secret could otherwise guess a weak password offline (issue 10).
func TestSecretCarriesNothingDerivedFromTheCredentials(t *testing.T) {
	ctx := context.Background()
	const pw = "hunter2"
	s, err := kube.Build(ctx, "ns", ghcr("weak", pw))
	if err != nil {
		t.Fatal(err)
	}
	data := s.Data[corev1.DockerConfigJsonKey]
	sum := sha256.Sum256(data)
	leaks := []string{pw, hex.EncodeToString(sum[:]), base64.StdEncoding.EncodeToString(sum[:]), hex.EncodeToString(sum[:8])}
	for _, m := range []map[string]string{s.Annotations, s.Labels} {
		for k, v := range m {
			for _, l := range leaks {
				if strings.Contains(v, l) {
					t.Errorf("%s=%s is derived from the secret data", k, v)
				}
			}
		}
	}
	if _, ok := s.Annotations[kube.LegacyAnnotationHash]; ok {
		t.Errorf("the Secret still carries %s", kube.LegacyAnnotationHash)
	}
}

// TestSyncDecidesOnDataNotHash: a steady pass writes nothing; a Secret whose data differs
// is rewritten even with no annotation to compare; a Secret written by an earlier version
// (with the unsalted hash annotation) is updated once to drop it, then left alone.
func TestSyncDecidesOnDataNotHash(t *testing.T) {
	ctx := context.Background()
	client := fake.NewSimpleClientset()
	s := kube.NewSyncer(client)
	reg := ghcr("d", "pw-1")
	sync := func(want kube.Action) {
		t.Helper()
		res, err := s.Sync(ctx, []registry.Registry{reg}, []string{"ns"})
		if err != nil || res.Err() != nil {
			t.Fatal(err, res.Err())
		}
		if res.Count(want) != 1 {
			t.Fatalf("want %s, got\n%s", want, res)
		}
	}
	get := func() *corev1.Secret {
		t.Helper()
		got, err := client.CoreV1().Secrets("ns").Get(ctx, "registry-secret-d", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	sync(kube.Created)
	sync(kube.Unchanged)

	// Someone edits the data behind regcred's back: the next pass restores it.
	cur := get()
	cur.Data[corev1.DockerConfigJsonKey] = []byte(`{"auths":{}}`)
	if _, err := client.CoreV1().Secrets("ns").Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	sync(kube.Updated)
	sync(kube.Unchanged)

	// A Secret from an earlier version: same data, plus the legacy hash annotation.
	cur = get()
	sum := sha256.Sum256(cur.Data[corev1.DockerConfigJsonKey])
	cur.Annotations[kube.LegacyAnnotationHash] = hex.EncodeToString(sum[:])
	cur.Annotations["team.example.com/owner"] = "payments" // someone else's: kept
	if _, err := client.CoreV1().Secrets("ns").Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	sync(kube.Updated)
	got := get()
	if _, ok := got.Annotations[kube.LegacyAnnotationHash]; ok || got.Annotations["team.example.com/owner"] != "payments" {
		t.Fatalf("annotations after the upgrade pass: %v", got.Annotations)
	}
	sync(kube.Unchanged)
}

// TestSyncSeesRotationWithoutNewVersion: the Syncer keeps one provider per record content;
// a credential changed in place (same ID and version, as a platform's own store may do)
// is a new content, so the new password is deployed.
func TestSyncSeesRotationWithoutNewVersion(t *testing.T) {
	ctx := context.Background()
	client := fake.NewSimpleClientset()
	s := kube.NewSyncer(client)
	for i, pw := range []string{"pw-1", "pw-2"} {
		r := ghcr("rot", pw)
		r.Version = 7
		res, err := s.Sync(ctx, []registry.Registry{r}, []string{"ns"})
		if err != nil || res.Err() != nil {
			t.Fatal(err, res.Err())
		}
		got, err := client.CoreV1().Secrets("ns").Get(ctx, "registry-secret-rot", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(got.Data[corev1.DockerConfigJsonKey]), base64.StdEncoding.EncodeToString([]byte("bot:"+pw))) {
			t.Fatalf("pass %d: the Secret does not hold %s", i, pw)
		}
	}
}

// TestAdaptersRefuseRedacted: a redacted view (what Catalog.Get and List hand out) is
// refused with ErrRedacted by Build, BuildCombined and Sync, before any API call; a real
// password that reads "REDACTED" is not a redacted view and deploys.
func TestAdaptersRefuseRedacted(t *testing.T) {
	ctx := context.Background()
	red := ghcr("r", "real-token").Redacted()
	if _, err := kube.Build(ctx, "ns", red); !errors.Is(err, registry.ErrRedacted) {
		t.Fatalf("Build: %v, want ErrRedacted", err)
	}
	if _, err := kube.BuildCombined(ctx, "ns", "all", []registry.Registry{ghcr("ok", "x"), red}); !errors.Is(err, registry.ErrRedacted) {
		t.Fatalf("BuildCombined: %v, want ErrRedacted", err)
	}
	client := fake.NewSimpleClientset()
	if _, err := kube.NewSyncer(client).Sync(ctx, []registry.Registry{ghcr("ok", "x"), red}, []string{"ns"}); !errors.Is(err, registry.ErrRedacted) {
		t.Fatalf("Sync: %v, want ErrRedacted", err)
	}
	if n := len(client.Actions()); n != 0 {
		t.Fatalf("Sync of a redacted view made %d API calls", n)
	}
	// The Catalog's factory resolves its redacted views by ID: Build and Sync of what
	// Catalog.Get and List hand out deploy the real credentials.
	cat := catalog.New(memory.New())
	defer cat.Close()
	saved, err := cat.Add(ctx, ghcr("cat", "real-token"))
	if err != nil {
		t.Fatal(err)
	}
	sec, err := kube.Build(ctx, "ns", saved, kube.WithProviderFactory(cat.ProviderFactory()))
	if err != nil || !strings.Contains(string(sec.Data[corev1.DockerConfigJsonKey]), base64.StdEncoding.EncodeToString([]byte("bot:real-token"))) {
		t.Fatalf("Build of the Catalog's view with its factory: %v", err)
	}
	listed, _ := cat.List(ctx)
	if res, err := kube.NewSyncer(client, kube.WithProviderFactory(cat.ProviderFactory())).Sync(ctx, listed, []string{"ns"}); err != nil || res.Err() != nil {
		t.Fatalf("Sync of the Catalog's list with its factory: %v %v", err, res.Err())
	}
	literal := ghcr("lit", registry.Redacted)
	s, err := kube.Build(ctx, "ns", literal)
	if err != nil || !strings.Contains(string(s.Data[corev1.DockerConfigJsonKey]), base64.StdEncoding.EncodeToString([]byte("bot:REDACTED"))) {
		t.Fatalf("a password that reads REDACTED: %v", err)
	}
}
