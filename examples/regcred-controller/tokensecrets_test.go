package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/internal/testenv"
)

// With --token-secrets the controller fills seed 004's annotated Secret, as the document
// writes it, from its ServiceAccount's token for the registries file's Kubernetes-token
// registry.
func TestTokenSecrets(t *testing.T) {
	k := testenv.StartKube(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	caFile, kubeconfig, regs := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "kubeconfig"), filepath.Join(dir, "registries.yaml")
	files := map[string]string{
		caFile: string(k.CAPEM),
		kubeconfig: fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: %q, certificate-authority: %q}}]
users: [{name: admin, user: {token: %q}}]
contexts: [{name: test, context: {cluster: test, user: admin}}]
current-context: test
`, k.URL, caFile, k.AdminToken),
		regs: `- name: payload registry
  type: Kubernetes
  url: payload-registry.example.com
  credentials: {serviceAccount: payload/registry, audience: payload-registry.example.com}
`,
	}
	for p, c := range files {
		if err := os.WriteFile(p, []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ns := k.Namespace(t, "project-1")
	if _, err := k.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "my-pull-sa"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var logs syncWriter
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--kubeconfig", kubeconfig, "--registries", regs, "--token-secrets",
			"--namespace-selector", "regcred-test-none=1", "--listen", ""}, &logs, nil)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v\n%s", err, logs.String())
		}
	}()
	if _, err := k.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "my-pull-secret", Annotations: map[string]string{"payload-registry.deckhouse.io/service-account.name": "my-pull-sa"}},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	fixture.Eventually(t, 30*time.Second, "the annotated Secret filled", func() error {
		s, err := k.Client.CoreV1().Secrets(ns).Get(ctx, "my-pull-secret", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if s.Annotations["payload-registry.deckhouse.io/expires-at"] == "" || len(s.OwnerReferences) != 1 {
			return fmt.Errorf("not filled: annotations %v", s.Annotations)
		}
		return nil
	})
}
