package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/internal/testenv"
)

// runCLI runs the regcred CLI in-process and returns its exit code and outputs.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// registriesFile writes a registries file with the protected test registry saved twice:
// "team" with the right password and "stale" with an old one.
func registriesFile(t *testing.T, reg *testenv.RegistryServer) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registries.yaml")
	body := fmt.Sprintf(`registries:
  - name: team
    type: Custom
    url: %[1]s
    tls: {mode: insecure}
    credentials: {username: %[2]s, password: %[3]s}
  - name: stale
    type: Custom
    url: %[1]s
    tls: {mode: insecure}
    credentials: {username: %[2]s, password: last-quarter}
`, reg.URL, reg.Username, reg.Password)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoginCommand(t *testing.T) {
	d := testenv.StartDocker(t)
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth("cli-user", "Cli-pa55word"))
	file := registriesFile(t, reg)
	cfgDir := t.TempDir()
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderr   string
		noSecret bool
	}{
		{"engine login", []string{"login", "--docker-host", d.Host, "team"}, 0, "Login Succeeded", "", true},
		{"engine refuses a stale password", []string{"login", "--docker-host", d.Host, "stale"}, 1, "", "unauthorized", true},
		{"unknown registry", []string{"login", "--docker-host", d.Host, "nope"}, 1, "", `no registry named "nope"`, true},
		{"cli needs a config dir", []string{"login", "--cli", "team"}, 2, "", "--docker-config", true},
		{"cli login", []string{"login", "--cli", "--docker", d.CLIPath, "--docker-host", d.Host, "--docker-config", cfgDir, "team"}, 0, "Login Succeeded", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"-f", file}, tc.args...)...)
			if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if strings.Contains(stdout+stderr, reg.Password) {
				t.Fatal("the password is in the output")
			}
		})
	}
	cfg, err := dockerconfig.Load(filepath.Join(cfgDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Auths[reg.Host].Credentials(); got.Username != "cli-user" || got.Password.Reveal() != "Cli-pa55word" {
		t.Errorf("the CLI stored %v for %s", got, reg.Host)
	}
}

// lockedFile writes a registries file with the plain-HTTP test registry saved as
// https:// in the secure TLS mode (the default): a record whose credentials may only
// travel over verified TLS.
func lockedFile(t *testing.T, reg *testenv.RegistryServer) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registries.yaml")
	body := fmt.Sprintf(`registries:
  - name: locked
    type: Custom
    url: https://%[1]s
    credentials: {username: %[2]s, password: %[3]s}
`, reg.Host, reg.Username, reg.Password)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoginCommandKeepsSecureRecordOffHTTP: login (engine and --cli) with a secure record
// whose registry answers in plain HTTP is refused before the daemon sees the credentials
// (the daemon would retry the loopback registry over http with them), and the CLI stores
// nothing.
func TestLoginCommandKeepsSecureRecordOffHTTP(t *testing.T) {
	d := testenv.StartDocker(t)
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth("cli-user", "Cli-pa55word"))
	file := lockedFile(t, reg)
	cfgDir := t.TempDir()
	for _, args := range [][]string{
		{"login", "--docker-host", d.Host, "locked"},
		{"login", "--cli", "--docker", d.CLIPath, "--docker-host", d.Host, "--docker-config", cfgDir, "locked"},
	} {
		code, stdout, stderr := runCLI(t, append([]string{"-f", file}, args...)...)
		if code != 1 || !strings.Contains(stderr, "http registry in secure-only mode") || strings.Contains(stdout, "Login Succeeded") {
			t.Errorf("%v: exit %d, want 1 and the refusal\nstdout: %s\nstderr: %s", args, code, stdout, stderr)
		}
		if strings.Contains(stdout+stderr, reg.Password) {
			t.Errorf("%v: the password is in the output", args)
		}
	}
	if _, err := os.Stat(filepath.Join(cfgDir, "config.json")); !os.IsNotExist(err) {
		t.Errorf("the CLI wrote a config.json (%v): it was given the credentials", err)
	}
}
