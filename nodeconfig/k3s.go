package nodeconfig

import (
	"fmt"
	"net"
	"path"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/regcred/regcred/registry"
)

// k3sFile is registries.yaml as k3s and RKE2 document it ("Private Registry
// Configuration"): mirrors by upstream, configs (auth, tls) by endpoint host.
type k3sFile struct {
	Mirrors map[string]k3sMirror `json:"mirrors,omitempty"`
	Configs map[string]k3sConfig `json:"configs,omitempty"`
}

type k3sMirror struct {
	Endpoint []string          `json:"endpoint"`
	Rewrite  map[string]string `json:"rewrite,omitempty"`
}

type k3sConfig struct {
	Auth *k3sAuth `json:"auth,omitempty"`
	TLS  *k3sTLS  `json:"tls,omitempty"`
}

type k3sAuth struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

type k3sTLS struct {
	CAFile             string `json:"ca_file,omitempty"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify,omitempty"`
}

// k3sDir is the distribution's configuration directory.
func k3sDir(rt Runtime) string {
	if rt == RKE2 {
		return "/etc/rancher/rke2"
	}
	return "/etc/rancher/k3s"
}

// genK3s writes registries.yaml (0600: it holds passwords) with the mirrors and, per
// endpoint host, the credentials, the CA file and skip-verify; the CA files go to
// <dir>/certs.d/<host[:port]>/ca.crt. Registries whose credentials are short-lived tokens
// are refused: k3s reads the file at start, so a token in it goes stale.
func genK3s(c *config, v *view, p *Plan) error {
	dir := k3sDir(p.Runtime)
	var f k3sFile
	configFor := func(e *endpoint) error {
		var cfg k3sConfig
		if e.reg != nil {
			creds, ok := registry.StaticCredentials(*e.reg)
			if !ok {
				return &Error{Runtime: p.Runtime, Registry: e.reg.Name, Err: fmt.Errorf("%w: %s credentials are short-lived tokens and would go stale in registries.yaml; give the nodes a kubelet image credential provider for it (examples/kubelet-credential-provider), or remove it from what node-config reads", ErrTokenKind, e.reg.Kind.Label())}
			}
			if !creds.Anonymous() && e.reg.IsRedacted() {
				return &Error{Runtime: p.Runtime, Registry: e.reg.Name, Err: fmt.Errorf("%w: registries.yaml needs the real credentials; pass the records from the store (or the registries file), not a listing", registry.ErrRedacted)}
			}
			if !creds.Anonymous() {
				cfg.Auth = &k3sAuth{Username: creds.Username, Password: creds.Password.Reveal()}
			}
		}
		if e.ca != nil || e.skipVerify() {
			cfg.TLS = &k3sTLS{InsecureSkipVerify: e.skipVerify()}
			if e.ca != nil {
				cfg.TLS.CAFile = path.Join(dir, "certs.d", e.server.Host, "ca.crt")
				p.Files = append(p.Files, File{Path: cfg.TLS.CAFile, Data: e.ca, Mode: 0o644})
			}
		}
		if cfg.Auth == nil && cfg.TLS == nil {
			return nil
		}
		if f.Configs == nil {
			f.Configs = map[string]k3sConfig{}
		}
		// configs are keyed by the endpoint's host, not the registry's name: Docker Hub's
		// is registry-1.docker.io for k3s's containerd (k3s-io/k3s#3937), while wharfie
		// (RKE2's own pulls) looks under index.docker.io, then docker.io: both keys.
		key, _ := strings.CutPrefix(e.url(), e.scheme()+"://")
		f.Configs[key] = cfg
		if key == "registry-1.docker.io" {
			f.Configs["docker.io"] = cfg
		}
		return nil
	}
	seen := map[*endpoint]bool{}
	for _, h := range v.sortedHosts() {
		if s := h.self; s.reg != nil && !s.plainHTTP() && loopback(s.server.Host) && oddPort(s.server.Host) {
			p.Warnings = append(p.Warnings, fmt.Sprintf("registry %q (%s) is on loopback with a port, and tools that read registries.yaml with rancher/wharfie (RKE2's own pulls) reach such a registry over plain http, not https", s.name(), s.server.Host))
		}
		ends := append([]*endpoint{h.self}, h.mirrors...)
		for _, e := range ends {
			if e.reg == nil || seen[e] {
				continue
			}
			seen[e] = true
			if err := configFor(e); err != nil {
				return err
			}
		}
		var m k3sMirror
		for _, e := range h.mirrors {
			if e.server.Path != "" {
				if len(h.mirrors) > 1 {
					p.Warnings = append(p.Warnings, fmt.Sprintf("mirror %q of %s is inside a project (%s), which k3s can only express with a rewrite for all of %s's mirrors; it is left out", e.name(), h.host, e.server, h.host))
					continue
				}
				// A replacement, not a pattern: a repository path has no "$" to escape.
				m.Rewrite = map[string]string{"^(.*)$": e.server.Path + "/$1"}
			}
			m.Endpoint = append(m.Endpoint, e.url())
		}
		if len(h.mirrors) == 0 && h.self.plainHTTP() {
			m.Endpoint = []string{h.self.url()} // k3s reaches a plain-http registry only through a mirror entry
		}
		if len(m.Endpoint) == 0 {
			continue
		}
		if f.Mirrors == nil {
			f.Mirrors = map[string]k3sMirror{}
		}
		f.Mirrors[h.host] = m
		if len(h.mirrors) > 0 && !h.fallback {
			p.Warnings = append(p.Warnings, fmt.Sprintf("fallback is off for %s, but tools that read registries.yaml with rancher/wharfie (RKE2 pulls its runtime and system images that way) try %s after the mirrors whatever the settings", h.host, h.host))
			p.Notes = append(p.Notes, fmt.Sprintf("fallback is off for %s: set disable-default-registry-endpoint: true in %s/config.yaml (k3s v1.26.13+, v1.27.10+, v1.28.6+, v1.29.1+), or the nodes still try %s last", h.host, dir, h.host))
		}
	}
	if f.Mirrors == nil && f.Configs == nil {
		return nil
	}
	b, err := yaml.Marshal(f)
	if err != nil {
		return err
	}
	p.Files = append(p.Files, File{Path: path.Join(dir, "registries.yaml"), Data: b, Mode: 0o600, redact: redactK3s})
	p.Notes = append(p.Notes, "restart "+string(p.Runtime)+" on each node to read registries.yaml")
	return nil
}

// redactK3s hides the credentials of a registries.yaml for Diff.
func redactK3s(b []byte) []byte {
	var f k3sFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		return []byte("# (not shown: the file does not parse, and it may hold credentials)\n")
	}
	for k, c := range f.Configs {
		if c.Auth != nil {
			a := *c.Auth
			if a.Password != "" {
				a.Password = registry.Redacted
			}
			c.Auth = &a
			f.Configs[k] = c
		}
	}
	out, err := yaml.Marshal(f)
	if err != nil {
		return []byte("# (not shown)\n")
	}
	return out
}

// oddPort reports whether host names a port other than 443 (wharfie's localhost rule).
func oddPort(host string) bool {
	_, port, err := net.SplitHostPort(host)
	return err == nil && port != "" && port != "443"
}
