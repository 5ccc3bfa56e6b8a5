package nodeconfig

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/regcred/regcred/registry"
)

// endpoint is one place a node pulls from: a saved registry's server with its TLS mode,
// or an upstream host nobody saved (docker.io), which is verified https.
type endpoint struct {
	reg    *registry.Registry // nil for an unsaved upstream
	server registry.Server    // Host as typed (lowercase), Path for a mirror inside a project
	tls    registry.TLS
	ca     []byte // the CA bundle, normalized: CERTIFICATE blocks only; nil unless custom CA
}

// name is how warnings and errors call the endpoint.
func (e *endpoint) name() string {
	if e.reg != nil {
		return e.reg.Name
	}
	return e.server.Host
}

// plainHTTP reports whether the endpoint speaks http (the user wrote http://).
func (e *endpoint) plainHTTP() bool { return e.server.Scheme == "http" }

// skipVerify reports whether TLS verification is off for the endpoint.
func (e *endpoint) skipVerify() bool {
	return e.tls.EffectiveMode() == registry.TLSInsecure && !e.plainHTTP()
}

// insecure reports whether pulls from the endpoint can be tampered with.
func (e *endpoint) insecure() bool { return e.plainHTTP() || e.skipVerify() }

// needsConfig reports whether the endpoint needs anything on a node beyond the defaults.
func (e *endpoint) needsConfig() bool { return e.insecure() || e.ca != nil }

// scheme is the endpoint's URL scheme.
func (e *endpoint) scheme() string {
	if e.plainHTTP() {
		return "http"
	}
	return "https"
}

// url is scheme://host of the endpoint; Docker Hub's API host for docker.io.
func (e *endpoint) url() string {
	host := e.server.Host
	if registry.CanonicalHost(host) == "docker.io" {
		host = "registry-1.docker.io"
	}
	return e.scheme() + "://" + host
}

// hostConfig is one registry host as nodes key their configuration: its own endpoint and
// the mirrors nodes try first.
type hostConfig struct {
	host     string    // canonical: "docker.io", "registry.example.com:5000"
	self     *endpoint // the saved registry at this host, else the plain upstream
	saved    []*registry.Registry
	mirrors  []*endpoint // in order
	fallback bool        // with mirrors: pull from the host itself after them
}

// view is the saved registries as nodes see them, keyed by host.
type view struct {
	hosts    map[string]*hostConfig
	warnings []string
}

// sortedHosts returns the host configs in host order (stable output).
func (v *view) sortedHosts() []*hostConfig {
	out := make([]*hostConfig, 0, len(v.hosts))
	for _, h := range v.hosts {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].host < out[j].host })
	return out
}

func newView(regs []registry.Registry) (*view, error) {
	if err := registry.ValidateMirrors(regs); err != nil {
		return nil, &Error{Err: err}
	}
	v := &view{hosts: map[string]*hostConfig{}}
	get := func(host string) *hostConfig {
		h, ok := v.hosts[host]
		if !ok {
			h = &hostConfig{host: host}
			v.hosts[host] = h
		}
		return h
	}
	endpoints := make([]*endpoint, len(regs))
	for i := range regs {
		r := &regs[i]
		if err := r.Validate(); err != nil {
			return nil, &Error{Registry: r.Name, Err: err}
		}
		s, err := r.ServerInfo()
		if err != nil {
			return nil, &Error{Registry: r.Name, Err: err}
		}
		if s.Wildcard {
			if r.TLS.EffectiveMode() != registry.TLSSecure {
				v.warnf("registry %q: its host %q is a wildcard, which node configuration cannot name; its TLS mode is not configured on nodes", r.Name, s.Host)
			}
			continue
		}
		e := &endpoint{reg: r, server: s, tls: r.TLS}
		if r.TLS.EffectiveMode() == registry.TLSCustomCA {
			if e.ca, err = parseCA(r.TLS.CABundle); err != nil {
				return nil, &Error{Registry: r.Name, Err: err}
			}
			// Every runtime adds a host's CA file to the system pool (the judges module
			// shows it for each): none can be told to trust the given CA alone.
			v.warnf("registry %q (%s): nodes trust a certificate signed by the CA given, and also one signed by any CA in the node's system trust store; no runtime can be limited to the given CA", r.Name, s.Host)
		}
		endpoints[i] = e
		h := get(registry.CanonicalHost(s.Host))
		h.saved = append(h.saved, r)
		if h.self == nil {
			h.self = e
			continue
		}
		if err := sameConnection(h.self, e); err != nil {
			return nil, &Error{Registry: r.Name, Err: err}
		}
	}
	type ranked struct {
		e     *endpoint
		order int
		id    string
	}
	mirrors := map[string][]ranked{}
	for i := range regs {
		r := &regs[i]
		if r.Mirror == nil || endpoints[i] == nil {
			continue
		}
		up, err := r.Mirror.ResolveUpstream(regs)
		if err != nil { // ValidateMirrors passed, so this does not happen; keep the error anyway
			return nil, &Error{Registry: r.Name, Err: err}
		}
		h := get(up.Host)
		h.fallback = r.Mirror.Fallback
		mirrors[up.Host] = append(mirrors[up.Host], ranked{endpoints[i], r.Mirror.Order, r.ID})
	}
	for host, ms := range mirrors {
		sort.SliceStable(ms, func(i, j int) bool {
			if ms[i].order != ms[j].order {
				return ms[i].order < ms[j].order
			}
			return ms[i].id < ms[j].id
		})
		h := v.hosts[host]
		if h.self == nil { // an upstream nobody saved: verified https
			h.self = &endpoint{server: registry.Server{Scheme: "https", Host: host}}
		}
		for _, m := range ms {
			h.mirrors = append(h.mirrors, m.e)
			if m.e.insecure() && !h.self.insecure() {
				how := "skips TLS verification"
				if m.e.plainHTTP() {
					how = "is plain http"
				}
				v.warnf("mirror %q of %s %s while %s itself is verified: images pulled through it can be tampered with on the way", m.e.name(), host, how, host)
			}
		}
	}
	return v, nil
}

// sameConnection refuses two saved registries on one host that a node would have to
// reach in two different ways: node configuration is per host.
func sameConnection(a, b *endpoint) error {
	switch {
	case a.tls.EffectiveMode() != b.tls.EffectiveMode():
		return &registry.FieldError{Field: "tls.mode", Reason: fmt.Sprintf("is %s but registry %q on the same host %s is %s", b.tls.EffectiveMode(), a.name(), a.server.Host, a.tls.EffectiveMode()),
			Hint: "nodes configure TLS per host: give both registries the same TLS mode"}
	case a.scheme() != b.scheme():
		return &registry.FieldError{Field: "url", Reason: fmt.Sprintf("uses %s but registry %q on the same host uses %s", b.scheme(), a.name(), a.scheme()),
			Hint: "nodes configure a host one way: use the same scheme for both"}
	case string(a.ca) != string(b.ca):
		return &registry.FieldError{Field: "tls.caBundle", Reason: fmt.Sprintf("differs from registry %q's on the same host %s", a.name(), a.server.Host),
			Hint: "nodes trust one CA bundle per host: give both registries the same bundle"}
	}
	return nil
}

// parseCA checks every block of a PEM bundle: at least one certificate, each one parsing
// as X.509. It returns the certificates re-encoded (other blocks and text dropped), so a
// daemon never reads a private key or garbage from a CA file.
func parseCA(bundle string) ([]byte, error) {
	rest := []byte(bundle)
	var out []byte
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		n++
		if b.Type != "CERTIFICATE" {
			return nil, &registry.FieldError{Field: "tls.caBundle", Reason: "block " + strconv.Itoa(n) + " is a " + strconv.Quote(bound(b.Type)) + ", not a CERTIFICATE",
				Hint: "paste only the CA certificate(s), never a private key"}
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return nil, &registry.FieldError{Field: "tls.caBundle", Reason: "certificate " + strconv.Itoa(n) + " does not parse: " + err.Error(),
				Hint: "paste the registry's CA certificate as PEM (ca.crt)"}
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.Bytes})...)
	}
	if n == 0 {
		return nil, &registry.FieldError{Field: "tls.caBundle", Reason: "holds no PEM certificate", Hint: "paste the -----BEGIN CERTIFICATE----- block"}
	}
	if strings.TrimSpace(string(rest)) != "" && strings.Contains(string(rest), "-----BEGIN") {
		return nil, &registry.FieldError{Field: "tls.caBundle", Reason: "has a PEM block after certificate " + strconv.Itoa(n) + " that does not decode", Hint: "check the bundle is not cut off"}
	}
	return out, nil
}

// bound shortens untrusted text for a message.
func bound(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func (v *view) warnf(format string, a ...any) {
	v.warnings = append(v.warnings, fmt.Sprintf(format, a...))
}

// ipv6 reports whether host (as "[fd00::1]:5000" or "[fd00::1]") is an IPv6 literal.
func ipv6(host string) bool { return strings.HasPrefix(host, "[") }

// loopback reports whether host ("localhost:5000", "127.0.0.1:5000", "[::1]") is on
// loopback, as containerd's docker.IsLocalhost and wharfie read it: those runtimes give
// such a host plain http (and skip-verify) defaults of their own.
func loopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
