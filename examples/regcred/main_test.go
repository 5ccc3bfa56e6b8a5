package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry/keychain"
	"github.com/regcred/regcred/registryfile"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "registries.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExitCodes(t *testing.T) {
	good := writeFile(t, "- {name: Hub, type: Public}\n")
	bad := writeFile(t, "- name: x\n  type: ECR\n  credentials: {region: moon-1}\n")
	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{"no command", nil, exitUsage, "", "usage: regcred"},
		{"unknown command", []string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`},
		{"help", []string{"help"}, exitOK, "dockerconfig", ""},
		{"bad flag", []string{"-f", good, "test", "--nope"}, exitUsage, "", "usage: regcred test"},
		{"validate ok", []string{"-f", good, "validate"}, exitOK, "1 registries, all valid", ""},
		{"validate bad region", []string{"-f", bad, "validate"}, exitConfig, "", `registry "x" (entry 1): field region`},
		{"missing file", []string{"-f", filepath.Join(t.TempDir(), "none.yaml"), "validate"}, exitConfig, "", "registries file not found"},
		{"unknown registry", []string{"-f", good, "dockerconfig", "nope"}, exitFailed, "", `no registry named "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			if !strings.Contains(out, tt.inStdout) {
				t.Errorf("stdout %q lacks %q", out, tt.inStdout)
			}
			if !strings.Contains(errOut, tt.inStderr) {
				t.Errorf("stderr %q lacks %q", errOut, tt.inStderr)
			}
		})
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	t.Setenv(registryfile.EnvPath, writeFile(t, "- {name: A, type: Public}\n- {name: B, type: Public, url: quay.io}\n"))
	code, out, errOut := runCLI(t, "validate")
	if code != exitOK || !strings.Contains(out, "2 registries, all valid") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

func TestDemo(t *testing.T) {
	code, out, errOut := runCLI(t, "demo")
	if code != exitOK {
		t.Fatalf("demo exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	for _, want := range []string{
		"fields map[password:REDACTED username:demo]",
		"[ok]       credentials accepted: signed in as demo",
		"[ok]       image can be pulled",
		"digest sha256:",
		"[FAILED]   credentials accepted",
		`{"auths":{"127.0.0.1:`,
		"demo finished",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "not-the-password") {
		t.Error("demo printed the wrong password it tried")
	}
}

// TestAgainstRealRegistry drives the CLI against Debian's docker-registry with htpasswd:
// the connection test passes and fails as it should, the .dockerconfigjson it prints makes
// skopeo (an independent client) succeed, and one with a wrong password makes skopeo fail.
func TestAgainstRealRegistry(t *testing.T) {
	srv := testenv.StartRegistry(t, testenv.WithBasicAuth("alice", "s3cret-pw"))
	ref := srv.Push(t, "team/app:v1")
	t.Setenv("REG_PASSWORD", "s3cret-pw")
	file := writeFile(t, `
- name: Team registry
  type: Custom
  url: `+srv.URL+`
  tls: {mode: insecure}
  credentials: {username: alice, password: "${REG_PASSWORD}"}
- name: Wrong password
  type: Custom
  url: `+srv.URL+`
  tls: {mode: insecure}
  credentials: {username: alice, password: nope}
`)
	t.Run("test ok", func(t *testing.T) {
		code, out, errOut := runCLI(t, "-f", file, "test", "--image", ref, "Team registry")
		if code != exitOK || !strings.Contains(out, "[ok]       image can be pulled") {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		if strings.Contains(out+errOut, "s3cret-pw") {
			t.Fatal("the password was printed")
		}
	})
	t.Run("test json and failure", func(t *testing.T) {
		code, out, _ := runCLI(t, "-f", file, "test", "--json")
		if code != exitFailed {
			t.Fatalf("exit %d, want %d (one registry has a wrong password)", code, exitFailed)
		}
		var reports []struct {
			Registry string `json:"registry"`
			OK       bool   `json:"ok"`
		}
		if err := json.Unmarshal([]byte(out), &reports); err != nil {
			t.Fatalf("--json output is not JSON: %v\n%s", err, out)
		}
		got := map[string]bool{}
		for _, r := range reports {
			got[r.Registry] = r.OK
		}
		if len(got) != 2 || !got["Team registry"] || got["Wrong password"] {
			t.Fatalf("verdicts %v, want Team registry ok and Wrong password failed", got)
		}
	})

	skopeo := testenv.Skopeo(t)
	inspect := func(t *testing.T, registryName string) error {
		code, cfg, errOut := runCLI(t, "-f", file, "dockerconfig", registryName)
		if code != exitOK {
			t.Fatalf("dockerconfig exit %d: %s", code, errOut)
		}
		authfile := filepath.Join(t.TempDir(), "auth.json")
		if err := os.WriteFile(authfile, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(skopeo, "inspect", "--authfile", authfile, "--tls-verify=false", "docker://"+ref)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("skopeo: %s", out)
		}
		return err
	}
	t.Run("skopeo accepts our dockerconfig", func(t *testing.T) {
		if err := inspect(t, "Team registry"); err != nil {
			t.Fatalf("skopeo inspect with our .dockerconfigjson: %v", err)
		}
	})
	t.Run("skopeo refuses a wrong password", func(t *testing.T) {
		if err := inspect(t, "Wrong password"); err == nil {
			t.Fatal("skopeo inspect succeeded with a wrong password")
		}
	})
	t.Run("keychain pulls through remote", func(t *testing.T) {
		regs, err := registryfile.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		kc, err := keychain.New(regs[:1])
		if err != nil {
			t.Fatal(err)
		}
		r, err := name.ParseReference(ref, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := remote.Image(r, remote.WithAuthFromKeychain(kc)); err != nil {
			t.Fatalf("pull through the keychain: %v", err)
		}
		anon, _ := keychain.New(nil)
		if _, err := remote.Image(r, remote.WithAuthFromKeychain(anon)); err == nil {
			t.Fatal("an anonymous pull from the password-protected registry succeeded")
		}
	})
}
