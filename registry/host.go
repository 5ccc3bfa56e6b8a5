package registry

import (
	"net"
	"net/netip"
	"strings"
)

func ConnHostname(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

func IsGHCRHost(host string) bool { return ConnHostname(host) == "ghcr.io" }

func IsDockerHubHost(host string) bool {
	switch ConnHostname(host) {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return true
	}
	return false
}

// dockerHubHost is the canonical host of Docker Hub inside the index. docker.io,
// index.docker.io and registry-1.docker.io all fold into it.
const DockerHubHost = "docker.io"

// canonicalHost folds a lowercase host[:port] into the key the index uses.
func IndexHost(h string) string {
	switch h {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return DockerHubHost
	}
	if strings.HasPrefix(h, "[") {
		return CanonicalIPv6(h)
	}
	return h
}

// canonicalIPv6 rewrites "[0:0::1]:5000" as "[::1]:5000", as ParseServer stores it. A literal
// that is not an IPv6 address stays as written.
func CanonicalIPv6(h string) string {
	end := strings.IndexByte(h, ']')
	if end < 0 {
		return h
	}
	a, err := netip.ParseAddr(h[1:end])
	if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
		return h
	}
	s := "[" + a.String() + "]" + h[end+1:]
	if s == h {
		return h
	}
	return s
}

// lowerASCII lowercases s without allocating when it has no uppercase letter.
func LowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// hostPattern is a wildcard server: hostname labels where "*" matches exactly one DNS
// label (as kubelet's credential provider matches), and a port that must be equal.
type HostPattern struct {
	labels  []string
	port    string // ":5000" or ""
	Literal int    // labels that are not "*"
	Suffix  string // the literal labels after the last "*", the bucket key
}

func NewHostPattern(host string) HostPattern {
	name, port := host, ""
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		name, port = host[:i], host[i:]
	}
	p := HostPattern{labels: strings.Split(name, "."), port: port}
	last := -1
	for i, l := range p.labels {
		if l == "*" {
			last = i
		} else {
			p.Literal++
		}
	}
	p.Suffix = strings.Join(p.labels[last+1:], ".")
	return p
}

// match reports whether the hostname (no port) with port matches.
func (p HostPattern) Matches(name, port string) bool {
	if port != p.port {
		return false
	}
	for i, l := range p.labels {
		var label string
		label, name, _ = strings.Cut(name, ".")
		if label == "" || (l != "*" && l != label) {
			return false
		}
		if (name == "") != (i == len(p.labels)-1) {
			return false
		}
	}
	return true
}

// splitPort splits a canonical host into hostname and ":port".
func SplitPort(h string) (name, port string) {
	i := strings.LastIndexByte(h, ':')
	if i < 0 || strings.HasSuffix(h, "]") {
		return h, ""
	}
	return h[:i], h[i:]
}
