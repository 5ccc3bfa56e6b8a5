package controller_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/regcred/regcred/controller"
	"github.com/regcred/regcred/dockerconfig"
	fx "github.com/regcred/regcred/internal/fixture"
)

// TestWithDockerConfig: the controller keeps the file beside the namespaces.
func TestWithDockerConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	f := newFixture(t, nil, controller.WithDockerConfig(path))
	f.add(t, custom("dcfg", "pw-dcfg"))
	f.start(t)
	fx.Eventually(t, 10*time.Second, "docker config written by the controller", func() error {
		cfg, err := dockerconfig.Load(path)
		if err != nil {
			return err
		}
		if _, e, ok := cfg.Lookup("dcfg.registry.example"); !ok || string(e.Password) != "pw-dcfg" {
			return fmt.Errorf("no entry for dcfg: %v", cfg)
		}
		return nil
	})
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v (mode %v), want 0600", path, err, fi.Mode().Perm())
	}
}
