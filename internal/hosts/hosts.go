package hosts

import (
	"net/netip"
	"strings"
)

// DockerHub is Docker Hub's canonical host: what Canonical folds its aliases into.
const DockerHub = "docker.io"

// DockerHubAliases are Docker Hub's host names, canonical first.
var DockerHubAliases = [...]string{DockerHub, "index.docker.io", "registry-1.docker.io"}

// IsDockerHub reports whether host (no port; a port makes it another host) is one of
// Docker Hub's names, in any case.
func IsDockerHub(host string) bool {
	for _, a := range DockerHubAliases {
		if strings.EqualFold(host, a) {
			return true
		}
	}
	return false
}

// Canonical returns host in the one canonical form: lowercase, Docker Hub's names as
// DockerHub, an IPv6 literal in its shortest form. It does not allocate when host is in
// canonical form already.
func Canonical(host string) string {
	if IsDockerHub(host) {
		return DockerHub
	}
	host = LowerASCII(host)
	if strings.HasPrefix(host, "[") {
		return canonicalIPv6(host)
	}
	return host
}

// canonicalIPv6 rewrites "[0:0::1]:5000" as "[::1]:5000". A literal that is not an IPv6
// address (a zone, an IPv4-mapped address, a typo) stays as written.
func canonicalIPv6(h string) string {
	end := strings.IndexByte(h, ']')
	if end < 0 {
		return h
	}
	a, err := netip.ParseAddr(h[1:end])
	if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
		return h
	}
	var buf [64]byte
	if s := a.AppendTo(buf[:0]); string(s) != h[1:end] {
		return "[" + string(s) + "]" + h[end+1:]
	}
	return h
}

// SplitPort splits host[:port] into the host and the port without its colon; port is ""
// when there is none. IPv6 literals keep their brackets: "[::1]:5000" gives "[::1]" and
// "5000"; "[::1]" gives "[::1]" and "". An unbracketed string with more than one colon is
// not split (it is not a host[:port]).
func SplitPort(hostport string) (host, port string) {
	if strings.HasPrefix(hostport, "[") {
		if i := strings.LastIndex(hostport, "]:"); i >= 0 {
			return hostport[:i+1], hostport[i+2:]
		}
		return hostport, ""
	}
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 || strings.IndexByte(hostport, ':') != i {
		return hostport, ""
	}
	return hostport[:i], hostport[i+1:]
}

// Hostname is host[:port] without its port and without an IPv6 literal's brackets: the
// name TLS verifies and DNS resolves.
func Hostname(hostport string) string {
	h, _ := SplitPort(hostport)
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}

// LowerASCII lowercases s without allocating when it has no uppercase ASCII letter.
func LowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
