package registry

import (
	"github.com/regcred/regcred/internal/hosts"
)

// The host rules (Docker Hub's names, the canonical form, the host:port split, wildcard
// patterns) are written once, in internal/hosts; this file gives them to Server and to
// the packages outside this module's internals.

// CanonicalHost returns host (host[:port]) in its canonical form: lowercase, Docker Hub's
// names (docker.io, index.docker.io, registry-1.docker.io; no port) as "docker.io", an
// IPv6 literal in its shortest form. Two hosts name the same registry exactly when their
// canonical forms are equal: the Keychain indexes by it and nodes key a mirror's upstream
// by it. (The transport compares addresses, host:port with the scheme's default port,
// which is another question: is this URL the registry's own endpoint.)
// registry.hub.docker.com is not a Hub name: no Docker component treats it as one.
func CanonicalHost(host string) string { return hosts.Canonical(host) }

// IsDockerHub reports whether the server is Docker Hub (under any of its names).
func (s Server) IsDockerHub() bool { return hosts.IsDockerHub(s.Host) }

// Canonical is the server's host in canonical form (see CanonicalHost).
func (s Server) Canonical() string { return hosts.Canonical(s.Host) }

// Key is the key a docker config.json keeps the server's credentials under: DockerHubServer
// for Docker Hub whatever its name or path (docker and the kubelet look Hub up there
// only), host[/path] for any other server, and "" for a wildcard, which cannot be a key.
func (s Server) Key() string {
	switch {
	case s.Wildcard:
		return ""
	case s.IsDockerHub():
		return DockerHubServer
	}
	return s.String()
}

// Matches reports whether a concrete host (host[:port], as in an image reference) is
// this server's host: equal in canonical form, or covered by the wildcard label for label
// with an equal port ("*" is one non-empty DNS label). The path is not looked at.
func (s Server) Matches(host string) bool {
	if s.Wildcard {
		return hosts.MatchWildcard(s.Host, hosts.LowerASCII(host))
	}
	return hosts.Canonical(host) == hosts.Canonical(s.Host)
}
