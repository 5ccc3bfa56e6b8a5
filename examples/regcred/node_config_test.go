package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regcred/regcred/internal/testenv"
)

func nodeConfigFile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), testenv.NewCA(t).CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "registries.yaml")
	body := `registries:
  - name: Private
    type: Custom
    url: registry.internal:5443
    credentials: {username: ci, password: s3cret-node}
    tls: {mode: ca, caFile: ca.crt}
  - name: Lab
    type: Public
    url: http://lab.internal:5000
    tls: {mode: insecure}
`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNodeConfigDryRunThenApply(t *testing.T) {
	file := nodeConfigFile(t)
	root := t.TempDir()
	code, out, errOut := runCLI(t, "-f", file, "node-config", "--runtime", "containerd", "--root", root, "--dry-run")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"--- /dev/null", "+++ b/etc/containerd/certs.d/registry.internal:5443/hosts.toml", "+ca = 'ca.crt'", "+++ b/etc/containerd/config.toml"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("a dry run wrote %v", entries)
	}
	code, out, errOut = runCLI(t, "-f", file, "node-config", "--runtime", "containerd", "--root", root)
	if code != exitOK || !strings.Contains(out, "wrote /etc/containerd/certs.d/lab.internal:5000/hosts.toml") || !strings.Contains(out, "next: restart containerd") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "-f", file, "node-config", "--runtime", "containerd", "--root", root)
	if code != exitOK || !strings.Contains(out, "up to date") {
		t.Errorf("second apply: exit %d\n%s", code, out)
	}
}

func TestNodeConfigK3sNeverPrintsPasswords(t *testing.T) {
	file := nodeConfigFile(t)
	root := t.TempDir()
	code, out, errOut := runCLI(t, "-f", file, "node-config", "--runtime", "k3s", "--root", root, "--dry-run")
	if code != exitOK || !strings.Contains(out, "password: REDACTED") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "s3cret-node") {
		t.Errorf("the dry run printed the password:\n%s", out)
	}
	if code, _, errOut := runCLI(t, "-f", file, "node-config", "--runtime", "k3s", "--root", root); code != exitOK {
		t.Fatalf("apply: %s", errOut)
	}
	fi, err := os.Stat(filepath.Join(root, "etc/rancher/k3s/registries.yaml"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("registries.yaml: %v %v, want mode 0600", fi, err)
	}
}

func TestNodeConfigUsage(t *testing.T) {
	file := nodeConfigFile(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"node-config", "--root", "/tmp"}, exitUsage, "--runtime is required"},
		{[]string{"node-config", "--runtime", "cri-x", "--root", "/tmp"}, exitUsage, `unknown runtime "cri-x"`},
		{[]string{"node-config", "--runtime", "docker"}, exitUsage, "--root is required"},
	} {
		code, _, errOut := runCLI(t, append([]string{"-f", file}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	tokens := filepath.Join(t.TempDir(), "r.yaml")
	os.WriteFile(tokens, []byte("- name: Cluster\n  type: Kubernetes\n  url: registry.internal\n  credentials: {serviceAccount: ci/puller}\n"), 0o600)
	code, _, errOut := runCLI(t, "-f", tokens, "node-config", "--runtime", "rke2", "--root", t.TempDir())
	if code != exitFailed || !strings.Contains(errOut, "would go stale in registries.yaml") {
		t.Errorf("token kind for rke2: exit %d, %s", code, errOut)
	}
}

// Issue 19: the dry run printed a password it read from containerd's config.toml, and
// --root followed an absolute symlink out of the root (apply overwrote the file outside
// and changed its mode 0600 -> 0644).
func TestNodeConfigKeepsNodeSecretsAndStaysInRoot(t *testing.T) {
	file := nodeConfigFile(t)
	root := t.TempDir()
	conf := filepath.Join(root, "etc/containerd/config.toml")
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		t.Fatal(err)
	}
	toml := "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"r.internal\".auth]\n  username = \"ci\"\n  password = \"node-toml-s3cret\"\n"
	if err := os.WriteFile(conf, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "-f", file, "node-config", "--runtime", "containerd", "--root", root, "--dry-run")
	if code != exitOK || !strings.Contains(out, "+config_path") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "node-toml-s3cret") {
		t.Errorf("the dry run prints the node's password:\n%s", out)
	}

	outside := filepath.Join(t.TempDir(), "daemon.json")
	if err := os.WriteFile(outside, []byte(`{"debug": true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if err := os.MkdirAll(filepath.Join(other, "etc/docker"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(other, "etc/docker/daemon.json")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "-f", file, "node-config", "--runtime", "docker", "--root", other)
	if code == exitOK || !strings.Contains(errOut, "symlink") || !strings.Contains(errOut, "outside the root") {
		t.Errorf("apply through a link out of the root: exit %d\n%s\n%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(outside); string(b) != `{"debug": true}` {
		t.Errorf("the file outside the root was written: %s", b)
	}
	if fi, _ := os.Stat(outside); fi.Mode().Perm() != 0o600 {
		t.Errorf("the file outside the root changed mode to %04o", fi.Mode().Perm())
	}
}
