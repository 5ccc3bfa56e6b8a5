package compose

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"sigs.k8s.io/yaml"

	"github.com/regcred/regcred/registry"
)

// Project is a loaded compose project: its name, the compose-go model, and the images its
// active services need, one entry per distinct image reference.
type Project struct {
	Name string
	// Model is compose-go's project after interpolation, extends, profiles and merging of
	// every file, for callers that need more than the images.
	Model *types.Project
	// Images are the images to pull, sorted by reference (then platform).
	Images []Image
	// Skipped are the services that need no pull, with the reason (build only,
	// pull_policy build or never), sorted by service name.
	Skipped []Skip
}

// Image is one image the project needs.
type Image struct {
	// Ref is the normalized reference with its tag or digest:
	// "docker.io/library/redis:7", "registry.example.com:5000/team/app:1.2".
	Ref string
	// Host is the registry host from Ref ("docker.io" for Docker Hub).
	Host string
	// Services are the services that use the image, sorted.
	Services []string
	// Policy is the strictest pull_policy among those services ("always", "missing",
	// "refresh", ...; "" when none is set, which pulls).
	Policy string
	// Buildable reports that every service using the image can also build it, so a failed
	// pull is not fatal: compose builds instead.
	Buildable bool
	// Platform is the services' platform ("linux/arm64"); "" for the daemon's own. The same
	// reference for two platforms is two images.
	Platform string `json:",omitempty"`
}

// Skip is a service that needs no pull.
type Skip struct {
	Service string
	Reason  string
}

// FileError is a compose file that could not be read or parsed. Load returns one per bad
// file, joined; errors.Is(err, registry.ErrInvalid) holds.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return "compose file " + e.Path + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, registry.ErrInvalid) true.
func (e *FileError) Is(target error) bool { return target == registry.ErrInvalid }

// LoadOption configures Load.
type LoadOption func(*loadConfig)

type loadConfig struct {
	env      map[string]string
	osEnv    bool
	profiles []string
	dir      string
	name     string
	envFiles []string
}

// WithEnv sets variables for interpolation (KEY=VALUE); they win over the process
// environment and the .env file.
func WithEnv(kv ...string) LoadOption {
	return func(c *loadConfig) {
		for _, s := range kv {
			k, v, _ := strings.Cut(s, "=")
			c.env[k] = v
		}
	}
}

// WithOSEnv controls whether the process environment is used for interpolation (default
// true, as docker compose does).
func WithOSEnv(on bool) LoadOption { return func(c *loadConfig) { c.osEnv = on } }

// WithProfiles activates compose profiles; services in other profiles are left out.
// Without it, COMPOSE_PROFILES from the environment applies, as with docker compose.
func WithProfiles(p ...string) LoadOption {
	return func(c *loadConfig) { c.profiles = append(c.profiles, p...) }
}

// WithWorkingDir sets the project directory (default: the first file's directory), where
// the .env file and relative paths are resolved.
func WithWorkingDir(dir string) LoadOption { return func(c *loadConfig) { c.dir = dir } }

// WithProjectName sets the project name (default: the files' name:, else the directory).
func WithProjectName(name string) LoadOption { return func(c *loadConfig) { c.name = name } }

// WithEnvFiles replaces the default .env file with these files.
func WithEnvFiles(files ...string) LoadOption {
	return func(c *loadConfig) { c.envFiles = append(c.envFiles, files...) }
}

// Load reads a compose project from one or more files (later files override earlier
// ones, as with `docker compose -f a -f b`), with variable interpolation from the
// environment and the .env file, extends, and profiles, and lists the images to pull.
//
// A file that cannot be read or is not YAML yields a *FileError naming it; all such files
// are reported together (errors.Join). A project that parses but is invalid yields one
// error naming the files.
func Load(ctx context.Context, files []string, opts ...LoadOption) (*Project, error) {
	cfg := loadConfig{env: map[string]string{}, osEnv: true}
	for _, o := range opts {
		o(&cfg)
	}
	if len(files) == 0 {
		return nil, &registry.Error{Op: "load compose project", Err: &registry.FieldError{Field: "files", Reason: "no compose file given", Hint: "pass -f compose.yaml"}}
	}
	var fileErrs []error
	for _, f := range files {
		if err := checkFile(f); err != nil {
			fileErrs = append(fileErrs, err)
		}
	}
	if len(fileErrs) > 0 {
		return nil, errors.Join(fileErrs...)
	}

	env := make([]string, 0, len(cfg.env))
	for k, v := range cfg.env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	popts := []cli.ProjectOptionsFn{cli.WithEnv(env)}
	if cfg.dir != "" {
		popts = append(popts, cli.WithWorkingDirectory(cfg.dir))
	}
	if cfg.osEnv {
		popts = append(popts, cli.WithOsEnv)
	}
	popts = append(popts, cli.WithEnvFiles(cfg.envFiles...), cli.WithDotEnv)
	if cfg.name != "" {
		popts = append(popts, cli.WithName(cfg.name))
	}
	if len(cfg.profiles) > 0 {
		popts = append(popts, cli.WithProfiles(cfg.profiles))
	} else {
		popts = append(popts, cli.WithDefaultProfiles())
	}
	po, err := cli.NewProjectOptions(files, popts...)
	if err != nil {
		return nil, &registry.Error{Op: "load compose project", Registry: strings.Join(files, ", "), Err: fmt.Errorf("%w: %w", registry.ErrInvalid, err)}
	}
	model, err := po.LoadProject(ctx)
	if err != nil {
		return nil, &registry.Error{Op: "load compose project", Registry: strings.Join(files, ", "), Err: fmt.Errorf("%w: %w", registry.ErrInvalid, err)}
	}
	p, err := FromModel(model)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// checkFile reads one compose file and checks that it is a YAML mapping, so a broken file
// is reported by name even when several are merged.
func checkFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return &FileError{Path: path, Err: fmt.Errorf("cannot read it: %w", errors.Unwrap(err))}
	}
	var top any
	if err := yaml.Unmarshal(b, &top); err != nil {
		return &FileError{Path: path, Err: fmt.Errorf("is not valid YAML: %s", strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "))}
	}
	switch top.(type) {
	case map[string]any:
		return nil
	case nil:
		return &FileError{Path: path, Err: errors.New("is empty")}
	default:
		return &FileError{Path: path, Err: errors.New("is not a mapping of top-level keys (services:, ...)")}
	}
}

// FromModel lists the images of an already loaded compose-go project, following the
// compose spec's pull_policy: services without an image (build only) and services with
// pull_policy build or never are skipped; "missing"/"if_not_present" and the default pull
// (PrePull checks presence for "missing"); a service with both image and build pulls but
// is Buildable. An image reference that does not parse is an error naming the service.
func FromModel(model *types.Project) (*Project, error) {
	p := &Project{Name: model.Name, Model: model}
	byRef := map[string]*Image{}
	names := slices.Sorted(maps.Keys(model.Services))
	var errs []error
	for _, name := range names {
		svc := model.Services[name]
		policy := strings.ToLower(svc.PullPolicy)
		switch {
		case svc.Image == "":
			p.Skipped = append(p.Skipped, Skip{Service: name, Reason: "build only: no image to pull"})
			continue
		case policy == types.PullPolicyBuild:
			p.Skipped = append(p.Skipped, Skip{Service: name, Reason: "pull_policy build: compose builds the image"})
			continue
		case policy == types.PullPolicyNever:
			p.Skipped = append(p.Skipped, Skip{Service: name, Reason: "pull_policy never: the image must be present already"})
			continue
		}
		if _, _, err := svc.GetPullPolicy(); err != nil {
			errs = append(errs, &registry.Error{Op: "compose service " + name, Err: &registry.FieldError{Field: "pull_policy",
				Reason: fmt.Sprintf("%q is not a pull policy", svc.PullPolicy), Hint: "use always, missing, never, build, refresh, daily, weekly or every_<duration>"}})
			continue
		}
		ref, host, err := NormalizeRef(svc.Image)
		if err != nil {
			errs = append(errs, &registry.Error{Op: "compose service " + name, Err: &registry.FieldError{Field: "image",
				Reason: fmt.Sprintf("%q is not an image reference: %v", svc.Image, err)}})
			continue
		}
		key := ref + "|" + svc.Platform
		img := byRef[key]
		if img == nil {
			img = &Image{Ref: ref, Host: host, Policy: policy, Buildable: true, Platform: svc.Platform}
			byRef[key] = img
		}
		img.Services = append(img.Services, name)
		img.Buildable = img.Buildable && svc.Build != nil
		img.Policy = stricter(img.Policy, policy)
	}
	for _, name := range slices.Sorted(maps.Keys(model.DisabledServices)) {
		p.Skipped = append(p.Skipped, Skip{Service: name, Reason: "not in an active profile"})
	}
	sort.Slice(p.Skipped, func(i, j int) bool { return p.Skipped[i].Service < p.Skipped[j].Service })
	for _, img := range byRef {
		p.Images = append(p.Images, *img)
	}
	sort.Slice(p.Images, func(i, j int) bool {
		a, b := p.Images[i], p.Images[j]
		return a.Ref < b.Ref || a.Ref == b.Ref && a.Platform < b.Platform
	})
	if len(errs) > 0 {
		return p, errors.Join(errs...)
	}
	return p, nil
}

// stricter returns the policy that pulls more eagerly: always > refresh/daily/... >
// "" (default) > missing.
func stricter(a, b string) string {
	rank := func(s string) int {
		switch s {
		case types.PullPolicyAlways:
			return 3
		case types.PullPolicyMissing, types.PullPolicyIfNotPresent:
			return 0
		case "":
			return 1
		}
		return 2
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// NormalizeRef parses an image reference as docker does and returns it fully qualified with
// a tag (":latest" when none and no digest), and its registry host ("docker.io" for Hub).
func NormalizeRef(image string) (ref, host string, err error) {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return "", "", err
	}
	named = reference.TagNameOnly(named)
	return named.String(), reference.Domain(named), nil
}
