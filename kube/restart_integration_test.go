package kube_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

// TestRestartAndUpgradeAgainstAPIServer, on a real kube-apiserver: a new Syncer (a restart,
// another replica) over the same records sends no write; Secrets written by an earlier
// version (with the unsalted regcred.io/hash annotation) get one update that drops it and
// keeps everything else, then none.
func TestRestartAndUpgradeAgainstAPIServer(t *testing.T) {
	k := testenv.StartKube(t)
	ctx := context.Background()
	nss := k.Namespaces(t, "restart", 5)
	const owner = "regcred-restart-test"
	regs := []registry.Registry{ghcr("ra", "token-a"), custom("rb", "registry.example.com", "pass-b")}

	client, wc := countingClient(t, k)
	first, err := kube.NewSyncer(client, kube.WithManagedBy(owner)).Sync(ctx, regs, nss)
	if err != nil || first.Err() != nil || first.Count(kube.Created) != 10 {
		t.Fatalf("first pass: %v %v\n%s", err, first.Err(), first)
	}

	before := wc.writes.Load()
	res, err := kube.NewSyncer(client, kube.WithManagedBy(owner)).Sync(ctx, regs, nss)
	if err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	if got := wc.writes.Load() - before; got != 0 || res.Count(kube.Unchanged) != 10 {
		t.Fatalf("a restarted Syncer sent %d writes, want 0\n%s", got, res)
	}

	// An earlier version's Secret: the same data with the hash annotation, and what other
	// owners put on it (a label, an annotation) that the upgrade must keep.
	sec := getSecret(t, k.Client, nss[2], "registry-secret-ra")
	sum := sha256.Sum256(sec.Data[corev1.DockerConfigJsonKey])
	sec.Annotations[kube.LegacyAnnotationHash] = hex.EncodeToString(sum[:])
	sec.Labels["team.example.com/owner"] = "payments"
	sec.Annotations["backup.example.com/policy"] = "daily"
	data := sec.Data[corev1.DockerConfigJsonKey]
	if _, err := k.Client.CoreV1().Secrets(nss[2]).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	s := kube.NewSyncer(client, kube.WithManagedBy(owner))
	before = wc.writes.Load()
	res, err = s.Sync(ctx, regs, nss)
	if err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	if got := wc.writes.Load() - before; got != 1 || res.Count(kube.Updated) != 1 {
		t.Fatalf("upgrade pass sent %d writes, want 1\n%s", got, res)
	}
	got := getSecret(t, k.Client, nss[2], "registry-secret-ra")
	if _, ok := got.Annotations[kube.LegacyAnnotationHash]; ok {
		t.Fatal("the legacy hash annotation is still there")
	}
	// Everything else is kept, as the API server stored it.
	if got.Labels["team.example.com/owner"] != "payments" || got.Annotations["backup.example.com/policy"] != "daily" {
		t.Fatalf("the upgrade dropped others' metadata: labels %v annotations %v", got.Labels, got.Annotations)
	}
	if got.Labels[kube.LabelManagedBy] != owner || got.Labels[kube.LabelRegistryID] != "ra" || got.Annotations[kube.AnnotationRegistry] != "GHCR ra" ||
		string(got.Data[corev1.DockerConfigJsonKey]) != string(data) || got.Type != corev1.SecretTypeDockerConfigJson || got.UID != sec.UID {
		t.Fatalf("the upgrade changed regcred's own content or replaced the Secret: %+v", got.ObjectMeta)
	}
	before = wc.writes.Load()
	if res, err := s.Sync(ctx, regs, nss); err != nil || wc.writes.Load() != before {
		t.Fatalf("pass after the upgrade sent %d writes (%v)", wc.writes.Load()-before, err)
	} else if res.Count(kube.Unchanged) != 10 {
		t.Fatalf("after the upgrade:\n%s", res)
	}
}
