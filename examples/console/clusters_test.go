package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry/conntest"
)

// kubeconfigOf is a kubeconfig for the harness's API server as its admin.
func kubeconfigOf(t *testing.T, k *testenv.Kube) string {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: k.URL, CertificateAuthorityData: k.CAPEM}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: k.AdminToken}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "admin"}
	cfg.CurrentContext = "test"
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitFor polls cond until it holds, failing after 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestClustersOnTheRealAPIServer: a cluster added on the Clusters page (its kubeconfig
// stored sealed) gets the registries' pull Secrets from the controller the console runs:
// save -> the Secret appears in the namespaces the registry's scope selects, not in
// others; the registry's row shows the namespace; rotate -> the Secret is updated in
// place; delete (not blocked by the namespaces it serves) -> the Secret is pruned.
func TestClustersOnTheRealAPIServer(t *testing.T) {
	k := testenv.StartKube(t)
	key, value := k.Selector(t)
	ns := k.LabeledNamespaces(t, "team", 2, map[string]string{key: value})
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth("ci-user", "ci-pass-1"))
	c := newTestConsole(t, withTestOptions(conntest.WithTimeout(10*time.Second)))
	ctx := context.Background()
	if _, err := k.PutServiceAccount(ctx, ns[0], &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "puller"}}); err != nil {
		t.Fatal(err)
	}
	// A Kubernetes token registry: without a cluster the page cannot get a token, and says
	// "not tested"; with one, the token is requested and tried against the registry.
	tokenDraft := map[string]any{"name": "payload", "type": "Kubernetes", "url": reg.URL, "tls": map[string]string{"mode": "insecure"},
		"credentials": map[string]string{"serviceAccount": ns[0] + "/puller"}}
	outcome := func() string {
		status, _, body := c.api("admin", adminPassword, "POST", "/api/v1/registries/test", tokenDraft)
		var rep struct {
			Outcome string
			Steps   []struct{ Name, Verdict, Cause string }
		}
		json.Unmarshal(body, &rep)
		if status != 200 {
			t.Fatalf("draft test: %d %s", status, body)
		}
		t.Logf("Kubernetes token registry test: %s %+v", rep.Outcome, rep.Steps)
		return rep.Outcome
	}
	if o := outcome(); o != "not tested" {
		t.Errorf("a Kubernetes token registry without a cluster: %q, want not tested", o)
	}
	b := c.login("admin", adminPassword)
	b.get("/clusters")
	kc := kubeconfigOf(t, k)
	if status, page := b.post("/clusters", url.Values{"name": {"test"}, "selector": {key + "=" + value}, "kubeconfig": {kc}}); status != 200 || !strings.Contains(page, "Cluster added") {
		t.Fatalf("add the cluster: %d\n%s", status, limitText(page, 2000))
	}
	var sealedKC string
	c.st.accounts.db.QueryRow(`SELECT sealed FROM console_clusters WHERE name = 'test'`).Scan(&sealedKC)
	if sealedKC == "" || strings.Contains(sealedKC, k.AdminToken) {
		t.Error("the kubeconfig is not stored sealed")
	}

	status, _, body := c.api("admin", adminPassword, "POST", "/api/v1/registries", map[string]any{"name": "team registry", "type": "Custom", "url": "registry.example.com",
		"credentials": map[string]string{"username": "deploy", "password": "first-password-1"}, "scope": map[string]any{"namespaces": []string{ns[0]}}})
	if status != 201 {
		t.Fatalf("save: %d %s", status, body)
	}
	var rec apiRegistry
	json.Unmarshal(body, &rec)
	if o := outcome(); o != "failed" { // the registry takes htpasswd, not the ServiceAccount's token: tried and refused
		t.Errorf("a Kubernetes token registry with a cluster: %q, want the token tried (failed at the registry)", o)
	}
	secrets := func(n string) []corev1.Secret {
		l, err := k.Client.CoreV1().Secrets(n).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelManagedBy})
		if err != nil {
			t.Fatal(err)
		}
		return l.Items
	}
	password := func(s corev1.Secret) string {
		var cfg struct {
			Auths map[string]struct{ Auth string }
		}
		json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &cfg)
		for _, a := range cfg.Auths {
			raw, _ := base64.StdEncoding.DecodeString(a.Auth)
			_, p, _ := strings.Cut(string(raw), ":")
			return p
		}
		return ""
	}
	waitFor(t, "the pull Secret in "+ns[0], func() bool { return len(secrets(ns[0])) == 1 })
	first := secrets(ns[0])[0]
	if password(first) != "first-password-1" {
		t.Errorf("the Secret does not hold the saved credentials")
	}
	if n := len(secrets(ns[1])); n != 0 {
		t.Errorf("%s (outside the registry's scope) got %d Secrets", ns[1], n)
	}
	waitFor(t, "the namespace on the registry's row", func() bool {
		_, page := b.get("/registries")
		return strings.Contains(rowOf(t, page, rec.ID), "namespace "+ns[0])
	})

	if status, _, body := c.api("admin", adminPassword, "PUT", "/api/v1/registries/"+rec.ID, map[string]any{"credentials": map[string]string{"password": "second-password-2"}}, "If-Match", `"v1"`); status != 200 {
		t.Fatalf("rotate: %d %s", status, body)
	}
	waitFor(t, "the rotated password in the Secret", func() bool {
		s := secrets(ns[0])
		return len(s) == 1 && password(s[0]) == "second-password-2"
	})
	if s := secrets(ns[0])[0]; s.UID != first.UID {
		t.Error("the rotation replaced the Secret instead of updating it in place")
	}

	_, confirm := b.get("/registries/" + rec.ID + "/delete")
	if !strings.Contains(confirm, ns[0]) || !strings.Contains(confirm, "removes its pull Secrets") {
		t.Errorf("the confirmation does not name the namespace it prunes")
	}
	if status, _ := b.post("/registries/"+rec.ID+"/delete", url.Values{"confirm": {"team registry"}}); status != 200 {
		t.Fatalf("delete: %d", status)
	}
	waitFor(t, "the Secret pruned from "+ns[0], func() bool { return len(secrets(ns[0])) == 0 })
}
