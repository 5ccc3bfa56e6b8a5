package compose

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/registry"
)

func TestWriteConfigDir(t *testing.T) {
	kc := KeychainFunc(func(_ context.Context, ref string) (registry.Credentials, registry.Registry, error) {
		switch ref {
		case "r.example/a:1", "r.example/b:1":
			return registry.Credentials{Username: "deploy", Password: "pw-1"}, registry.Registry{Name: "r"}, nil
		case "docker.io/acme/private:1":
			return registry.Credentials{Username: "hubuser", Password: "dckr_pat_1"}, registry.Registry{Name: "hub"}, nil
		case "broken.example/x:1":
			return registry.Credentials{}, registry.Registry{Name: "broken"}, &registry.Error{Op: "credentials", Registry: "broken", Err: registry.ErrUnavailable}
		}
		return registry.Credentials{}, registry.Registry{}, nil // public
	})
	images := []Image{
		{Ref: "r.example/a:1", Host: "r.example"},
		{Ref: "r.example/b:1", Host: "r.example"},
		{Ref: "docker.io/acme/private:1", Host: "docker.io"},
		{Ref: "docker.io/library/redis:7", Host: "docker.io"},
		{Ref: "public.example/x:1", Host: "public.example"},
		{Ref: "broken.example/x:1", Host: "broken.example", Services: []string{"b"}},
	}
	parent := t.TempDir()
	cd, cleanup, err := WriteConfigDir(context.Background(), kc, images, WithParentDir(parent))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{registry.DockerHubServer, "r.example"}, cd.Servers); diff != "" {
		t.Errorf("servers (-want +got):\n%s", diff)
	}
	if len(cd.Problems) != 1 || !errors.Is(cd.Problems[0], registry.ErrUnavailable) {
		t.Errorf("problems %v, want the broken registry's", cd.Problems)
	}
	fi, err := os.Stat(cd.Dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir: %v mode %v, want 0700", err, fi.Mode().Perm())
	}
	cfgPath := filepath.Join(cd.Dir, "config.json")
	fi, err = os.Stat(cfgPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config.json: %v mode %v, want 0600", err, fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(cd.Dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want config.json only", len(entries))
	}
	cfg, err := dockerconfig.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CredsStore != "" || len(cfg.CredHelpers) != 0 {
		t.Errorf("config has helpers: %+v", cfg)
	}
	if diff := cmp.Diff(cd.Servers, cfg.Keys()); diff != "" {
		t.Errorf("keys on disk (-want +got):\n%s", diff)
	}
	if got := cfg.Auths["r.example"].Credentials(); got.Username != "deploy" || got.Password != "pw-1" {
		t.Errorf("r.example entry %v", got)
	}
	if diff := cmp.Diff([]string{"DOCKER_CONFIG=" + cd.Dir}, cd.Env()); diff != "" {
		t.Error(diff)
	}
	if err := cleanup(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cd.Dir); !os.IsNotExist(err) {
		t.Errorf("directory still there after cleanup: %v", err)
	}
}
