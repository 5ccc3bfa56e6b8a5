package compose

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/registry"
)

// serverKey is the docker config key for a registry host (Docker Hub's is
// registry.DockerHubServer).
func serverKey(host string) string { return dockerconfig.Key(host) }

// ConfigDir is an isolated DOCKER_CONFIG directory for running `docker compose` or
// `docker-compose` yourself: a private directory (0700) holding only config.json (0600)
// with exactly the entries the project's images need.
type ConfigDir struct {
	// Dir is the directory to pass as DOCKER_CONFIG.
	Dir string
	// Servers are the config.json keys written, sorted.
	Servers []string
	// Problems are the images whose credentials could not be resolved, one *PullError
	// each; their registries have no entry, the other images' do.
	Problems []error
}

// Env returns DOCKER_CONFIG=Dir, to append to a command's environment.
func (c *ConfigDir) Env() []string { return []string{"DOCKER_CONFIG=" + c.Dir} }

// ConfigOption configures WriteConfigDir.
type ConfigOption func(*configDirConfig)

type configDirConfig struct{ parent string }

// WithParentDir creates the directory under parent (default os.TempDir()).
func WithParentDir(parent string) ConfigOption { return func(c *configDirConfig) { c.parent = parent } }

// WriteConfigDir resolves the credentials of each image's registry through kc and writes
// them to config.json in a new private directory: one entry per registry host that has
// credentials, nothing else (no credsStore, no credHelpers, so the docker client never
// falls back to the user's helpers). Images of registries with no saved credentials get
// no entry and pull anonymously. The user's own ~/.docker is never read or written.
//
// The returned cleanup removes the directory; call it when the command has run, also when
// err is nil but Problems is not empty. On error nothing is left behind.
func WriteConfigDir(ctx context.Context, kc Keychain, images []Image, opts ...ConfigOption) (*ConfigDir, func() error, error) {
	var cfg configDirConfig
	for _, o := range opts {
		o(&cfg)
	}
	out := &ConfigDir{}
	file := dockerconfig.New()
	seen := map[string]bool{}
	for _, img := range images {
		rs, err := lookup(ctx, kc, img.Ref)
		if err != nil {
			out.Problems = append(out.Problems, &PullError{Ref: img.Ref, Services: img.Services, Err: err})
			continue
		}
		creds := rs.creds
		if creds.Anonymous() {
			continue
		}
		key := serverKey(img.Host)
		if seen[key] {
			continue
		}
		seen[key] = true
		file.Set(key, creds)
	}
	out.Servers = file.Keys()
	sort.Strings(out.Servers)

	dir, err := os.MkdirTemp(cfg.parent, "regcred-docker-config-")
	if err != nil {
		return nil, nil, &registry.Error{Op: "write docker config", Err: fmt.Errorf("create directory: %w", err)}
	}
	cleanup := func() error { return os.RemoveAll(dir) }
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, nil, errors.Join(&registry.Error{Op: "write docker config", Err: err}, cleanup())
	}
	if err := file.WriteFile(filepath.Join(dir, "config.json")); err != nil {
		return nil, nil, errors.Join(&registry.Error{Op: "write docker config", Err: err}, cleanup())
	}
	out.Dir = dir
	return out, cleanup, nil
}
