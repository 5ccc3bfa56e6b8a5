package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/regcred/regcred/internal/testenv"
)

const kubeRegistries = `registries:
  - name: Team GHCR
    type: GHCR
    url: ghcr.io/team
    credentials: {username: team, token: ghp_team}
  - name: Private
    type: Custom
    url: registry.example.com:5000
    credentials: {username: deploy, password: "%s"}
  - name: Hub
    type: Public
`

func writeKubeRegistries(t *testing.T, dir, password string) string {
	t.Helper()
	p := filepath.Join(dir, "registries-"+password+".yaml")
	if err := os.WriteFile(p, []byte(strings.Replace(kubeRegistries, "%s", password, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeKubeconfig writes a kubeconfig for the test API server with the given token.
func writeKubeconfig(t *testing.T, k *testenv.Kube, token string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: k.URL, CertificateAuthorityData: k.CAPEM}
	cfg.AuthInfos["user"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "user"}
	cfg.CurrentContext = "test"
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecretCommand(t *testing.T) {
	regs := writeKubeRegistries(t, t.TempDir(), "s3cret")
	code, out, errOut := runCLI(t, "-f", regs, "secret", "--namespace", "env-production", "Private")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `apiVersion: v1
data:
  .dockerconfigjson: eyJhdXRocyI6eyJyZWdpc3RyeS5leGFtcGxlLmNvbTo1MDAwIjp7InVzZXJuYW1lIjoiZGVwbG95IiwicGFzc3dvcmQiOiJzM2NyZXQiLCJhdXRoIjoiWkdWd2JHOTVPbk16WTNKbGRBPT0ifX19
kind: Secret
metadata:
  annotations:
    regcred.io/registry: Private
  labels:
    app.kubernetes.io/managed-by: regcred
    regcred.io/registry-id: private
  name: registry-secret-private
  namespace: env-production
type: kubernetes.io/dockerconfigjson
`
	var s corev1.Secret
	if err := yaml.UnmarshalStrict([]byte(out), &s); err != nil {
		t.Fatalf("output is not a Secret: %v\n%s", err, out)
	}
	if d := cmp.Diff(want, out); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}

	t.Run("all registries: public left out", func(t *testing.T) {
		code, out, errOut := runCLI(t, "-f", regs, "secret", "--namespace", "ns")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if n := strings.Count(out, "kind: Secret"); n != 2 || strings.Count(out, "\n---\n") != 1 {
			t.Fatalf("want 2 secrets separated by ---, got:\n%s", out)
		}
	})
	t.Run("combined", func(t *testing.T) {
		code, out, errOut := runCLI(t, "-f", regs, "secret", "--namespace", "ns", "--name", "ghcr-creds")
		if code != exitOK || strings.Count(out, "kind: Secret") != 1 || !strings.Contains(out, "name: ghcr-creds") {
			t.Fatalf("exit %d: %s\n%s", code, errOut, out)
		}
	})
	t.Run("namespace required", func(t *testing.T) {
		if code, _, errOut := runCLI(t, "-f", regs, "secret"); code != exitUsage || !strings.Contains(errOut, "--namespace is required") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
}

func TestSyncCommand(t *testing.T) {
	k := testenv.StartKube(t)
	ctx := context.Background()
	nss := []string{k.Namespace(t, "cli-a"), k.Namespace(t, "cli-b")}
	for _, ns := range nss {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}, ImagePullSecrets: []corev1.LocalObjectReference{{Name: "theirs"}}}
		if _, err := k.PutServiceAccount(ctx, ns, sa); err != nil { // the controller-manager may have made it
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	kubeconfig := writeKubeconfig(t, k, k.AdminToken)
	args := func(password string, extra ...string) []string {
		return append([]string{"-f", writeKubeRegistries(t, dir, password), "sync", "--kubeconfig", kubeconfig,
			"--namespace", strings.Join(nss, ","), "--patch-serviceaccount", "--managed-by", "regcred-cli-test"}, extra...)
	}
	steps := []struct {
		name     string
		args     []string
		code     int
		inStdout []string
	}{
		{"first sync", args("one"), exitOK, []string{nss[0] + "  2        0        0          0       1        0", "6 writes"}},
		{"steady state", args("one"), exitOK, []string{nss[1] + "  0        0        3          0       0        0", "0 writes"}},
		{"rotation", args("two"), exitOK, []string{nss[0] + "  0        1        2          0       0        0", "2 writes"}},
		// Target only nss[0] and drop GHCR: nss[1] loses both secrets, nss[0] the GHCR one.
		{"prune", []string{"-f", writeKubeRegistries(t, dir, "two"), "sync", "--kubeconfig", kubeconfig, "--namespace", nss[0],
			"--patch-serviceaccount", "--prune", "--managed-by", "regcred-cli-test", "Private"}, exitOK,
			[]string{nss[0] + "  0        0        1          1       1        0", nss[1] + "  0        0        0          2       1        0"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, st.args...)
			if code != st.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, st.code, out, errOut)
			}
			for _, want := range st.inStdout {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
		})
	}
	sa, err := k.Client.CoreV1().ServiceAccounts(nss[0]).Get(ctx, "default", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range sa.ImagePullSecrets {
		names = append(names, r.Name)
	}
	if d := cmp.Diff([]string{"theirs", "registry-secret-private"}, names); d != "" {
		t.Errorf("imagePullSecrets (-want +got):\n%s", d)
	}

	t.Run("RBAC forbidden", func(t *testing.T) {
		limited := writeKubeconfig(t, k, k.LimitedToken)
		code, _, errOut := runCLI(t, "-f", writeKubeRegistries(t, dir, "x"), "sync", "--kubeconfig", limited, "--namespace", nss[0])
		if code != exitFailed || !strings.Contains(errOut, "forbidden by RBAC") || !strings.Contains(errOut, "regcred sync:") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
}
