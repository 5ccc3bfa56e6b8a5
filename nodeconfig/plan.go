package nodeconfig

import (
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/regcred/regcred/registry"
)

// Runtime names a node's container runtime: whose files Generate writes.
type Runtime string

// The runtimes. CRIO covers every tool built on containers/image: CRI-O, podman, skopeo,
// buildah. RKE2 is k3s's format under /etc/rancher/rke2.
const (
	Containerd Runtime = "containerd"
	Docker     Runtime = "docker"
	CRIO       Runtime = "crio"
	K3s        Runtime = "k3s"
	RKE2       Runtime = "rke2"
)

// Runtimes lists every runtime, in the order help texts show them.
func Runtimes() []Runtime { return []Runtime{Containerd, Docker, CRIO, K3s, RKE2} }

// ParseRuntime reads a runtime name, case-insensitively, with the aliases podman, skopeo,
// buildah and cri-o for CRIO, dockerd for Docker.
func ParseRuntime(s string) (Runtime, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "containerd":
		return Containerd, nil
	case "docker", "dockerd":
		return Docker, nil
	case "crio", "cri-o", "podman", "skopeo", "buildah":
		return CRIO, nil
	case "k3s":
		return K3s, nil
	case "rke2":
		return RKE2, nil
	}
	return "", fmt.Errorf("%w: unknown runtime %q (use containerd, docker, crio, k3s or rke2)", ErrInvalid, s)
}

// File is one generated file: where it goes on the node, what it holds, and its mode.
type File struct {
	// Path is absolute on the node: "/etc/containerd/certs.d/docker.io/hosts.toml".
	Path string
	Data []byte
	// Mode is 0644 for what daemons and unprivileged tools read (hosts.toml, CA
	// certificates, registries.conf drop-ins, daemon.json): rootless podman and skopeo read
	// /etc/containers as their user, and none of it is secret. Files that hold credentials
	// (k3s registries.yaml) are 0600.
	Mode fs.FileMode
	// Merged says Data is an existing file with regcred's keys merged in (daemon.json,
	// containerd's config.toml): keys regcred does not own are kept.
	Merged bool

	redact func([]byte) []byte // for Diff: hides credentials; nil when the file has none
}

// Secret reports whether the file holds credentials: Diff never shows its lines.
func (f File) Secret() bool { return f.redact != nil }

// String names the file without its content.
func (f File) String() string {
	return fmt.Sprintf("%s (%04o, %d bytes)", f.Path, f.Mode.Perm(), len(f.Data))
}

// GoString is String: a file may hold credentials.
func (f File) GoString() string { return "nodeconfig.File{" + f.String() + "}" }

// Format prints String under every verb (%v, %+v, %#v, %s): a file's content may hold
// credentials, so it is never printed through fmt.
func (f File) Format(s fmt.State, verb rune) {
	if verb == 'v' && s.Flag('#') {
		io.WriteString(s, f.GoString())
		return
	}
	io.WriteString(s, f.String())
}

// Plan is what Generate decided: the files for one runtime, and what the operator should
// know (a mirror Docker cannot use, an insecure mirror of a verified upstream, ...).
type Plan struct {
	Runtime  Runtime
	Files    []File   // sorted by Path
	Warnings []string // one sentence each; untrusted text in them is quoted
	// Notes say what to do after Apply that regcred cannot: restart dockerd, set k3s's
	// disable-default-registry-endpoint, ...
	Notes []string
}

// Option configures Generate.
type Option func(*config)

type config struct {
	root            string
	containerdCerts string
	node            *node // the tree under root, for reading existing files
}

// WithRoot reads the node's existing files (daemon.json, containerd's config.toml, ...)
// under dir instead of "/", as Apply and Diff write and compare them: a chroot, an image
// being built, a test's temporary directory.
func WithRoot(dir string) Option { return func(c *config) { c.root = dir } }

// WithContainerdConfigPath sets containerd's registry config_path (default
// /etc/containerd/certs.d); hosts.toml files go below it.
func WithContainerdConfigPath(dir string) Option {
	return func(c *config) { c.containerdCerts = filepath.Clean(dir) }
}

// Generate turns the saved registries into the node configuration of one runtime: mirrors,
// CA certificates and insecure (skip-verify or plain-http) registries, plus credentials
// where the runtime's format carries them (k3s/RKE2; token kinds are refused there: their
// tokens would go stale in a file). Registries that need nothing on a node (verified TLS,
// no mirror) produce no files, except for k3s credentials.
//
// It validates the mirrors across records (registry.ValidateMirrors), checks every CA
// bundle parses, and reads existing files under the root to merge into (daemon.json,
// containerd's config.toml). It writes nothing: see Apply and Diff.
func Generate(regs []registry.Registry, rt Runtime, opts ...Option) (*Plan, error) {
	c := config{root: "/", containerdCerts: "/etc/containerd/certs.d"}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if !filepath.IsAbs(c.containerdCerts) {
		return nil, fmt.Errorf("%w: containerd config_path %q must be absolute", ErrInvalid, c.containerdCerts)
	}
	v, err := newView(regs)
	if err != nil {
		return nil, err
	}
	if c.node, err = openNode(c.root, false); err != nil {
		return nil, &Error{Runtime: rt, Err: err}
	}
	defer c.node.close()
	p := &Plan{Runtime: rt, Warnings: v.warnings}
	switch rt {
	case Containerd:
		err = genContainerd(&c, v, p)
	case Docker:
		err = genDocker(&c, v, p)
	case CRIO:
		err = genCRIO(&c, v, p)
	case K3s, RKE2:
		err = genK3s(&c, v, p)
	default:
		_, err = ParseRuntime(string(rt))
	}
	if err != nil {
		return nil, err
	}
	sort.Slice(p.Files, func(i, j int) bool { return p.Files[i].Path < p.Files[j].Path })
	return p, nil
}
