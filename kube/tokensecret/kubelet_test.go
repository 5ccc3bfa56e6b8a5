package tokensecret_test

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/kube/tokensecret"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

// tokenRegistry is a registry that authenticates with Kubernetes tokens, as seed 004's
// payload registry does: basic auth with username "token" and a ServiceAccount token that
// the API server's TokenReview accepts for the registry's audience (audienceOf its host). It is a real
// distribution registry (htpasswd) behind a front that checks the token and forwards with
// the registry's own account.
func tokenRegistry(t *testing.T, client kubernetes.Interface, audienceOf func(host string) string) (front *httptest.Server, backend *testenv.RegistryServer) {
	backend = testenv.StartRegistry(t, testenv.WithBasicAuth("payload", "backend-only-Pa55"))
	target, _ := url.Parse(backend.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, token, ok := r.BasicAuth()
		if ok && user == "token" {
			rev, err := client.AuthenticationV1().TokenReviews().Create(r.Context(),
				&authv1.TokenReview{Spec: authv1.TokenReviewSpec{Token: token, Audiences: []string{audienceOf(r.Host)}}}, metav1.CreateOptions{})
			if err == nil && rev.Status.Authenticated {
				r.SetBasicAuth("payload", "backend-only-Pa55")
				proxy.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="payload-registry"`)
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"a Kubernetes token is required"}]}`, http.StatusUnauthorized)
	}))
	t.Cleanup(front.Close)
	return front, backend
}

// Seed 004 end to end with a kubelet: the document's Secret, filled by the reconciler, is
// what lets the kubelet pull from a registry that takes Kubernetes tokens; the same pod
// without it gets the registry's 401.
func TestKubeletPullsWithTheFilledSecret(t *testing.T) {
	k := testenv.StartKubeForKubelet(t)
	node := testenv.StartKubelet(t, k)
	ctx := context.Background()
	ns := k.Namespace(t, "project-1")
	front, backend := tokenRegistry(t, k.Client, func(host string) string { return host })
	host := strings.TrimPrefix(front.URL, "https://")

	// The image, pushed to the registry behind the front.
	ref, err := name.ParseReference(backend.Host+"/project-1/ubuntu:latest", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, testenv.PauseImage(t), remote.WithAuth(authn.FromConfig(authn.AuthConfig{Username: "payload", Password: "backend-only-Pa55"}))); err != nil {
		t.Fatalf("push: %v", err)
	}
	// The node trusts the front's certificate (containerd's hosts.toml).
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw})
	trust(t, node.HostsDir, host, caPEM)

	cat := catalog.New(memory.New())
	defer cat.Close()
	if _, err := cat.Add(ctx, registry.Registry{Name: "payload registry", Kind: registry.KindKubernetes, Server: host,
		Fields: map[string]string{"serviceAccount": "payload/registry"}}); err != nil { // audience: the host, by default
		t.Fatal(err)
	}
	if _, err := k.PutServiceAccount(ctx, ns, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "my-pull-sa"}}); err != nil {
		t.Fatal(err)
	}
	run(t, tokensecret.New(k.Client, cat, tokensecret.WithNamespace(ns)))
	if _, err := k.Client.CoreV1().Secrets(ns).Create(ctx, documentSecret(t), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Secret filled", 30*time.Second, func() (*corev1.Secret, error) {
		return k.Client.CoreV1().Secrets(ns).Get(ctx, "my-pull-secret", metav1.GetOptions{})
	}, func(s *corev1.Secret) bool { return string(s.Data[corev1.DockerConfigJsonKey]) != placeholder })

	image := host + "/project-1/ubuntu:latest"
	for i, tc := range []struct {
		secrets []string
		pulled  bool
	}{{nil, false}, {[]string{"my-pull-secret"}, true}} {
		pod := node.Pod(fmt.Sprintf("ubuntu-%d", i), image)
		for _, s := range tc.secrets {
			pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
		}
		if _, err := k.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// Deleted gracefully before the node goes: the kubelet stops the container and
		// confirms, so nothing of it is left in the node's cgroups at teardown.
		t.Cleanup(func() { deletePod(t, k.Client, ns, pod.Name) })
		pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		v, err := node.AwaitPull(pctx, ns, pod.Name)
		cancel()
		if err != nil {
			t.Fatalf("%v\nkubelet log:\n%s", err, node.Logs())
		}
		if v.Pulled != tc.pulled {
			t.Fatalf("pod with pull Secrets %v: pulled=%v (%s), want %v", tc.secrets, v.Pulled, v.Message, tc.pulled)
		}
		if !tc.pulled && !strings.Contains(v.Message, "401") {
			t.Fatalf("the control failed, but not with the registry's 401: %s", v.Message)
		}
	}
}

// trust writes containerd's hosts.toml that trusts caPEM for host.
func trust(t *testing.T, hostsDir, host string, caPEM []byte) {
	dir := filepath.Join(hostsDir, host)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	toml := fmt.Sprintf("server = %q\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n  ca = %q\n", "https://"+host, "https://"+host, ca)
	if err := os.WriteFile(filepath.Join(dir, "hosts.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
}

// deletePod deletes a pod gracefully and waits until the kubelet has confirmed it gone.
func deletePod(t *testing.T, c kubernetes.Interface, ns, name string) {
	ctx := context.Background()
	one := int64(1)
	if err := c.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &one}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("delete pod %s: %v", name, err)
		return
	}
	waitFor(t, "pod "+name+" gone", time.Minute, func() (bool, error) {
		_, err := c.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}, func(gone bool) bool { return gone })
}
