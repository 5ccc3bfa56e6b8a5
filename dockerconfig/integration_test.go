package dockerconfig_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
)

// TestSkopeoAcceptsOurConfig: an independent client (skopeo, containers/image) reads the
// file WriteFile writes and authenticates with it against a real password-protected
// registry; a wrong password in the same file is refused. Keys in each form docker
// accepts work.
func TestSkopeoAcceptsOurConfig(t *testing.T) {
	skopeo := testenv.Skopeo(t)
	s := testenv.StartRegistry(t, testenv.WithBasicAuth("alice", "s3cret:with:colons"))
	ref := s.Push(t, "team/app")

	tests := []struct {
		name     string
		server   string
		password string
		wantOK   bool
	}{
		{"host key", s.Host, "s3cret:with:colons", true},
		{"URL with /v2/ (docker accepts it, Key normalises it)", "http://" + s.Host + "/v2/", "s3cret:with:colons", true},
		{"path-scoped key covering the image", s.Host + "/team", "s3cret:with:colons", true},
		{"wrong password", s.Host, "wrong", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			regs := []registry.Registry{{Name: "local", Kind: registry.KindCustom, Server: tt.server,
				Fields: map[string]string{"username": "alice", "password": tt.password}}}
			cfg, _, err := dockerconfig.FromRegistries(context.Background(), regs, nil)
			if err != nil {
				t.Fatal(err)
			}
			authfile := filepath.Join(t.TempDir(), "auth.json")
			if err := cfg.WriteFile(authfile); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, skopeo, "inspect", "--tls-verify=false", "--authfile", authfile, "docker://"+ref).CombinedOutput()
			switch {
			case tt.wantOK && err != nil:
				t.Fatalf("skopeo inspect with our config: %v\n%s", err, out)
			case tt.wantOK && !strings.Contains(string(out), `"Digest"`):
				t.Fatalf("skopeo output lacks a digest:\n%s", out)
			case !tt.wantOK && err == nil:
				t.Fatalf("skopeo inspect succeeded with a wrong password:\n%s", out)
			case !tt.wantOK && !strings.Contains(strings.ToLower(string(out)), "unauthorized"):
				t.Errorf("skopeo failed, but not for authentication:\n%s", out)
			}
		})
	}
}
