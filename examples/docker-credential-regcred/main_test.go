package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/internal/testenv"
)

// asHelper makes the test binary act as docker-credential-regcred when docker or skopeo
// runs it through the symlink installHelper makes.
const asHelper = "REGCRED_TEST_RUN_AS_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(asHelper) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	testenv.DockerMain(m)
}

// writeRegistries writes a registries file and points REGCRED_CONFIG at it.
func writeRegistries(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registries.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REGCRED_CONFIG", path)
	return path
}

func runHelper(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), code
}

const registriesYAML = `registries:
  - name: team registry
    type: Custom
    url: http://127.0.0.1:5999
    tls: {mode: insecure}
    credentials:
      username: deploy
      password: ${TEAM_PASSWORD}
  - name: hub
    type: Docker
    credentials:
      username: hubuser
      password: dckr_pat_abc
  - name: acr
    type: ACR
    credentials:
      loginServer: myreg.azurecr.io
      username: 00000000-0000-0000-0000-000000000001
      password: sp-secret
  - name: public mirror
    type: Public
    url: mirror.example.com
`

func TestProtocol(t *testing.T) {
	t.Setenv("TEAM_PASSWORD", "from-env-pw")
	writeRegistries(t, registriesYAML)
	for _, tc := range []struct {
		name, action, stdin string
		want                string
		code                int
	}{
		{"get by host", "get", "127.0.0.1:5999", `{"ServerURL":"127.0.0.1:5999","Username":"deploy","Secret":"from-env-pw"}`, 0},
		{"get by URL", "get", "http://127.0.0.1:5999", `{"ServerURL":"http://127.0.0.1:5999","Username":"deploy","Secret":"from-env-pw"}`, 0},
		{"get docker hub key", "get", "https://index.docker.io/v1/", `{"ServerURL":"https://index.docker.io/v1/","Username":"hubuser","Secret":"dckr_pat_abc"}`, 0},
		{"get acr", "get", "myreg.azurecr.io", `{"ServerURL":"myreg.azurecr.io","Username":"00000000-0000-0000-0000-000000000001","Secret":"sp-secret"}`, 0},
		{"unknown registry", "get", "elsewhere.example", "credentials not found in native keychain", 1},
		{"public registry", "get", "mirror.example.com", "credentials not found in native keychain", 1},
		{"empty server", "get", "", "no credentials server URL", 1},
		{"store refused", "store", `{"ServerURL":"x","Username":"u","Secret":"s"}`, "read-only", 1},
		{"erase refused", "erase", "127.0.0.1:5999", "read-only", 1},
		{"unknown action", "frobnicate", "", "unknown action", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runHelper(t, tc.stdin, tc.action)
			if code != tc.code {
				t.Errorf("exit %d, want %d (output %q)", code, tc.code, out)
			}
			if tc.code == 0 {
				if diff := cmp.Diff(tc.want, strings.TrimSpace(out)); diff != "" {
					t.Errorf("output (-want +got):\n%s", diff)
				}
			} else if !strings.Contains(out, tc.want) {
				t.Errorf("output %q does not say %q", out, tc.want)
			}
		})
	}
	t.Run("list", func(t *testing.T) {
		out, code := runHelper(t, "", "list")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, out)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"127.0.0.1:5999": "deploy", "https://index.docker.io/v1/": "hubuser", "myreg.azurecr.io": "00000000-0000-0000-0000-000000000001"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("list (-want +got):\n%s", diff)
		}
		if strings.Contains(out, "from-env-pw") || strings.Contains(out, "dckr_pat_abc") {
			t.Error("list leaks a secret")
		}
	})
}

func TestBadRegistriesFile(t *testing.T) {
	t.Setenv("REGCRED_CONFIG", filepath.Join(t.TempDir(), "missing.yaml"))
	out, code := runHelper(t, "ghcr.io", "get")
	if code != 1 || !strings.Contains(out, "missing.yaml") {
		t.Fatalf("exit %d output %q; want an error naming the file", code, out)
	}
	path := writeRegistries(t, "registries:\n  - name: x\n    type: Custom\n    url: r.example\n    credentials:\n      username: u\n      password: ${UNSET_SECRET_VAR_FOR_TEST}\n")
	out, code = runHelper(t, "r.example", "get")
	if code != 1 || !strings.Contains(out, path) {
		t.Fatalf("exit %d output %q; want an error naming the file", code, out)
	}
}

// installHelper puts docker-credential-regcred (this test binary in helper mode) on a
// fresh PATH directory and returns the environment for a client process.
func installHelper(t *testing.T, env []string) []string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(self, filepath.Join(bin, "docker-credential-regcred")); err != nil {
		t.Fatal(err)
	}
	out := []string{asHelper + "=1", "REGCRED_CONFIG=" + os.Getenv("REGCRED_CONFIG")}
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			kv = "PATH=" + bin + string(os.PathListSeparator) + strings.TrimPrefix(kv, "PATH=")
		}
		out = append(out, kv)
	}
	return out
}

// TestDockerPullAndSkopeoThroughCredHelpers: docker pull and skopeo inspect get the
// password-protected registry's credentials from the helper via credHelpers, and nothing
// is stored.
func TestDockerPullAndSkopeoThroughCredHelpers(t *testing.T) {
	d := testenv.StartDocker(t)
	skopeo := testenv.Skopeo(t)
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth("helper-user", "Helper-pa55"))
	image := reg.Push(t, "credhelper/app:v1")
	t.Cleanup(func() { d.RemoveImage(t, image) })
	t.Setenv("REGISTRY_PASSWORD", "Helper-pa55")
	writeRegistries(t, fmt.Sprintf(`registries:
  - name: test registry
    type: Custom
    url: %s
    tls: {mode: insecure}
    credentials:
      username: helper-user
      password: ${REGISTRY_PASSWORD}
`, reg.URL))
	cfgDir := t.TempDir()
	cfgFile := filepath.Join(cfgDir, "config.json")
	cfg := fmt.Sprintf(`{"credHelpers":{%q:"regcred"}}`, reg.Host)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("baseline: no helper, no pull", func(t *testing.T) {
		if _, err := d.CLI(ctx, t.TempDir(), nil, "pull", image); err == nil {
			t.Fatal("pull without credentials succeeded; the registry is not protected")
		}
	})
	t.Run("docker pull", func(t *testing.T) {
		cmd := d.Command(ctx, cfgDir, "pull", image)
		cmd.Env = installHelper(t, cmd.Env)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker pull through the helper: %v\n%s", err, out)
		}
		if !d.HasImage(t, image) {
			t.Fatal("image not in the daemon after docker pull")
		}
		got, _ := os.ReadFile(cfgFile)
		if string(got) != cfg {
			t.Errorf("docker changed the config: %s", got)
		}
	})
	t.Run("skopeo inspect", func(t *testing.T) {
		cmd := exec.CommandContext(ctx, skopeo, "inspect", "--tls-verify=false", "--authfile", cfgFile, "docker://"+image)
		cmd.Env = installHelper(t, os.Environ())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("skopeo inspect through the helper: %v\n%s", err, out)
		}
		var info struct{ Name, Digest string }
		if err := json.Unmarshal(out, &info); err != nil || !strings.HasPrefix(info.Digest, "sha256:") {
			t.Fatalf("skopeo output %s: %v", out, err)
		}
	})
	t.Run("skopeo without the helper is refused", func(t *testing.T) {
		empty := filepath.Join(t.TempDir(), "auth.json")
		os.WriteFile(empty, []byte(`{}`), 0o600)
		cmd := exec.CommandContext(ctx, skopeo, "inspect", "--tls-verify=false", "--authfile", empty, "docker://"+image)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Fatalf("skopeo inspect without credentials succeeded:\n%s", out)
		}
	})
}
