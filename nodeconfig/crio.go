package nodeconfig

import (
	"fmt"
	"path"

	"github.com/pelletier/go-toml/v2"

	"github.com/regcred/regcred/registry"
)

// Files of the containers/image tools (CRI-O, podman, skopeo, buildah).
const (
	// CRIODropIn is the registries.conf (v2) drop-in regcred owns whole. A drop-in rather
	// than /etc/containers/registries.conf itself: nothing to merge, the operator's file and
	// its comments stay as they are, and a [[registry]] here replaces one with the same
	// prefix there (containers-registries.conf.d(5)).
	CRIODropIn = "/etc/containers/registries.conf.d/50-regcred.conf"
	// CRIOMainConf is the main file, read only to refuse mixing with a v1 file.
	CRIOMainConf = "/etc/containers/registries.conf"
	// CRIOCertsDir holds <host[:port]>/ca.crt (containers-certs.d(5)).
	CRIOCertsDir = "/etc/containers/certs.d"
)

// crioConf is a registries.conf v2 document (containers-registries.conf(5)).
type crioConf struct {
	Registry []crioRegistry `toml:"registry"`
}

type crioRegistry struct {
	Prefix   string       `toml:"prefix"`
	Location string       `toml:"location"`
	Insecure bool         `toml:"insecure"`
	Mirror   []crioMirror `toml:"mirror,omitempty"`
}

type crioMirror struct {
	Location string `toml:"location"`
	Insecure bool   `toml:"insecure"`
}

// location is an endpoint as registries.conf spells it: host[:port][/path], no scheme.
func (e *endpoint) location() string { return e.server.String() }

// genCRIO writes the registries.conf drop-in ([[registry]] per host with mirrors or an
// insecure server; mirrors in order; without fallback the last mirror becomes the
// location, so the upstream is never contacted) and certs.d/<host[:port]>/ca.crt.
func genCRIO(c *config, v *view, p *Plan) error {
	if main, err := c.node.readFile(CRIOMainConf); err != nil {
		return &Error{Runtime: CRIO, Registry: CRIOMainConf, Err: err}
	} else if main != nil {
		var doc map[string]any
		if err := toml.Unmarshal(main, &doc); err != nil {
			return &Error{Runtime: CRIO, Registry: CRIOMainConf, Err: fmt.Errorf("%w: cannot parse it as TOML (%v); containers/image would refuse it too: fix it first", ErrInvalid, err)}
		}
		if _, v1 := doc["registries"]; v1 {
			return &Error{Runtime: CRIO, Registry: CRIOMainConf, Err: fmt.Errorf("%w: it is a version 1 file ([registries.search] ...), and containers/image refuses v2 drop-ins beside it: convert it to version 2 (unqualified-search-registries, [[registry]])", ErrInvalid)}
		}
	}
	var conf crioConf
	certs := map[string][]byte{}
	addCA := func(e *endpoint) {
		if e.ca != nil {
			certs[e.server.Host] = e.ca
		}
	}
	for _, h := range v.sortedHosts() {
		if h.self.reg != nil {
			addCA(h.self)
		}
		for _, m := range h.mirrors {
			addCA(m)
			if ipv6(m.server.Host) {
				return &Error{Runtime: CRIO, Registry: m.name(), Err: &registry.FieldError{Field: "url",
					Reason: fmt.Sprintf("is an IPv6 address (%s), and containers/image (CRI-O, podman, skopeo) cannot parse one in an image reference: every pull of %s through this mirror would fail", m.server.Host, h.host),
					Hint:   "give the mirror a DNS name"}}
			}
		}
		if h.self.reg != nil && ipv6(h.self.server.Host) {
			p.Warnings = append(p.Warnings, fmt.Sprintf("registry %q is an IPv6 address (%s): containers/image (CRI-O, podman, skopeo) cannot parse one in an image reference, so no image on it can be pulled there; give it a DNS name", h.self.name(), h.self.server.Host))
			continue
		}
		for _, e := range append([]*endpoint{h.self}, h.mirrors...) {
			if e.reg != nil && e.skipVerify() {
				p.Warnings = append(p.Warnings, fmt.Sprintf("registry %q (%s) skips TLS verification, and CRI-O, podman and skopeo (insecure = true) then also retry it over plain http when https fails: save it with http:// if it speaks only http, or give its CA instead", e.name(), e.server.Host))
			}
		}
		if len(h.mirrors) == 0 && !h.self.insecure() {
			continue
		}
		// The host's own record may carry a path that scopes its credentials
		// (ghcr.io/myorg): the location is the host.
		r := crioRegistry{Prefix: h.host, Location: h.self.server.Host, Insecure: h.self.insecure()}
		for _, m := range h.mirrors {
			r.Mirror = append(r.Mirror, crioMirror{Location: m.location(), Insecure: m.insecure()})
		}
		if len(r.Mirror) > 0 && !h.fallback {
			last := r.Mirror[len(r.Mirror)-1]
			r.Location, r.Insecure = last.Location, last.Insecure
			r.Mirror = r.Mirror[:len(r.Mirror)-1]
		}
		conf.Registry = append(conf.Registry, r)
	}
	for host, ca := range certs {
		p.Files = append(p.Files, File{Path: path.Join(CRIOCertsDir, host, "ca.crt"), Data: ca, Mode: 0o644})
	}
	if len(conf.Registry) == 0 {
		return nil
	}
	b, err := toml.Marshal(conf)
	if err != nil {
		return err
	}
	doc := append([]byte("# Written by regcred node-config from the registry catalog; changes here are overwritten.\n\n"), b...)
	p.Files = append(p.Files, File{Path: CRIODropIn, Data: doc, Mode: 0o644})
	return nil
}
