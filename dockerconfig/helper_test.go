package dockerconfig

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/registry"
)

var (
	helperOnce sync.Once
	helperDir  string
	helperErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if helperDir != "" {
		os.RemoveAll(helperDir)
	}
	os.Exit(code)
}

// installHelper builds testdata/helper as docker-credential-regcredtest (once per test
// binary), puts it first in $PATH, and points it at a store holding db. It returns the
// file the helper logs each requested server URL to.
func installHelper(t *testing.T, db map[string][2]string) (logFile string) {
	t.Helper()
	goBin, err := exec.LookPath("go") // go test runs, so the toolchain is there
	if err != nil {
		t.Fatalf("the go command is needed to build the test helper: %v", err)
	}
	helperOnce.Do(func() {
		helperDir, helperErr = os.MkdirTemp("", "regcred-helper-")
		if helperErr != nil {
			return
		}
		out, err := exec.Command(goBin, "build", "-o", filepath.Join(helperDir, HelperPrefix+"regcredtest"), "./testdata/helper").CombinedOutput()
		if err != nil {
			helperErr = errors.New("go build testdata/helper: " + err.Error() + "\n" + string(out))
		}
	})
	if helperErr != nil {
		t.Fatal(helperErr)
	}
	dir := t.TempDir()
	var data []byte
	data, err = json.Marshal(db)
	if err != nil {
		t.Fatal(err)
	}
	dbFile := filepath.Join(dir, "db.json")
	if err := os.WriteFile(dbFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	logFile = filepath.Join(dir, "requests.log")
	t.Setenv("PATH", helperDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("REGCRED_TEST_HELPER_DB", dbFile)
	t.Setenv("REGCRED_TEST_HELPER_LOG", logFile)
	return logFile
}

func requests(t *testing.T, logFile string) []string {
	t.Helper()
	data, err := os.ReadFile(logFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(data))
}

func TestGetThroughHelper(t *testing.T) {
	logFile := installHelper(t, map[string][2]string{
		HubKey:             {"hubuser", "hubpass"},
		"ghcr.io":          {"octocat", "ghp_token"},
		"myreg.azurecr.io": {TokenUsername, "aad-refresh-token"},
		"localhost:5000":   {"", ""},
	})
	inline := AuthEntry{Username: "inline", Password: "inline-pass"}
	tests := []struct {
		name        string
		cfg         *Config
		server      string
		want        registry.Credentials
		wantErr     error
		wantAsked   []string
		errContains string
	}{
		{"credsStore, Hub asked under its key",
			&Config{CredsStore: "regcredtest"}, "docker.io",
			registry.Credentials{Username: "hubuser", Password: "hubpass"}, nil, []string{HubKey}, ""},
		{"credsStore asked with the host, not the path",
			&Config{CredsStore: "regcredtest"}, "https://ghcr.io/myorg/app",
			registry.Credentials{Username: "octocat", Password: "ghp_token"}, nil, []string{"ghcr.io"}, ""},
		{"<token> from a helper is an identity token",
			&Config{CredHelpers: map[string]string{"myreg.azurecr.io": "regcredtest"}}, "myreg.azurecr.io",
			registry.Credentials{IdentityToken: "aad-refresh-token"}, nil, []string{"myreg.azurecr.io"}, ""},
		{"credHelpers key written with a scheme still serves the host",
			&Config{CredHelpers: map[string]string{"https://ghcr.io": "regcredtest"}}, "ghcr.io",
			registry.Credentials{Username: "octocat", Password: "ghp_token"}, nil, []string{"ghcr.io"}, ""},
		{"credHelpers beats credsStore",
			&Config{CredsStore: "missing-store", CredHelpers: map[string]string{"ghcr.io": "regcredtest"}}, "ghcr.io",
			registry.Credentials{Username: "octocat", Password: "ghp_token"}, nil, []string{"ghcr.io"}, ""},
		{"helper beats the inline entry",
			&Config{CredsStore: "regcredtest", Auths: map[string]AuthEntry{"ghcr.io": inline}}, "ghcr.io",
			registry.Credentials{Username: "octocat", Password: "ghp_token"}, nil, []string{"ghcr.io"}, ""},
		{"helper not found falls through to the inline entry",
			&Config{CredsStore: "regcredtest", Auths: map[string]AuthEntry{"quay.io": inline}}, "quay.io",
			inline.Credentials(), nil, []string{"quay.io"}, ""},
		{"helper answering empty credentials counts as not found",
			&Config{CredsStore: "regcredtest"}, "localhost:5000",
			registry.Credentials{}, registry.ErrNotFound, []string{"localhost:5000"}, "docker-credential-regcredtest"},
		{"helper not found and no entry",
			&Config{CredsStore: "regcredtest", Auths: map[string]AuthEntry{"quay.io": {}}}, "quay.io",
			registry.Credentials{}, registry.ErrNotFound, []string{"quay.io"}, "quay.io"},
		{"helper failure surfaces with the helper's name and stderr, no fall-through",
			&Config{CredsStore: "regcredtest", Auths: map[string]AuthEntry{"fail.example": inline}}, "fail.example",
			registry.Credentials{}, nil, []string{"fail.example"}, "docker-credential-regcredtest fail.example: error getting credentials"},
		{"missing helper program",
			&Config{CredsStore: "nosuchhelper", Auths: map[string]AuthEntry{"ghcr.io": inline}}, "ghcr.io",
			registry.Credentials{}, exec.ErrNotFound, nil, "docker-credential-nosuchhelper"},
		{"helper name that is a path is refused",
			&Config{CredsStore: "../../bin/sh"}, "ghcr.io",
			registry.Credentials{}, registry.ErrInvalid, nil, "not a program name"},
		{"no helper: inline entry",
			&Config{Auths: map[string]AuthEntry{"https://ghcr.io": inline}}, "ghcr.io",
			inline.Credentials(), nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(logFile)
			got, err := tt.cfg.Get(context.Background(), tt.server)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Get err = %v, want %v", err, tt.wantErr)
			}
			if tt.errContains != "" && (err == nil || !strings.Contains(err.Error(), tt.errContains)) {
				t.Fatalf("Get err = %v, want it to contain %q", err, tt.errContains)
			}
			if tt.wantErr == nil && tt.errContains == "" && err != nil {
				t.Fatalf("Get: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("credentials (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantAsked, requests(t, logFile)); diff != "" {
				t.Errorf("servers asked (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetHelperStderrInError(t *testing.T) {
	installHelper(t, nil)
	_, err := (&Config{CredsStore: "regcredtest"}).Get(context.Background(), "fail.example")
	if err == nil || !strings.Contains(err.Error(), "backend exploded: keychain locked") {
		t.Fatalf("err = %v, want the helper's stderr in it", err)
	}
	var re *registry.Error
	if !errors.As(err, &re) || re.Registry != "fail.example" {
		t.Errorf("want a *registry.Error naming the server, got %#v", err)
	}
}

func TestGetHelperHonoursContext(t *testing.T) {
	installHelper(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	// The helper sleeps for an hour: Get returns only because cancelling ctx kills it.
	_, err := (&Config{CredsStore: "regcredtest"}).Get(ctx, "slow.example")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestGetEmptyServer(t *testing.T) {
	_, err := New().Get(context.Background(), " ")
	if !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
}
