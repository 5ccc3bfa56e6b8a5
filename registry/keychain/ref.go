package keychain

import (
	"fmt"
	"github.com/regcred/regcred/internal/hosts"
	"github.com/regcred/regcred/registry"
	"strings"
)

// Matching image references to saved registries.
//
// A reference is parsed without network, with the grammar of docker/distribution's
// reference package: the first path component is a registry host only if it contains '.'
// or ':', is "localhost", or has an uppercase letter (an IPv6 literal is written in
// brackets, "[::1]:5000/app"); otherwise the whole name is a Docker Hub repository and a
// one-component name is an official image ("postgres" is docker.io/library/postgres).
// Two additions for what users type where a host is expected: a string without '/' or '@'
// that reads as host[:port] with a '.' in the host, "localhost[:port]" or a bracketed IPv6
// literal is a bare registry host ("ghcr.io", "registry.example.com:5000"), and a string
// with a scheme is read as a server URL the way ParseServer reads one
// ("https://index.docker.io/v1/").

// imageRef is a parsed image reference, reduced to what matching needs.
type imageRef struct {
	host    string // canonical: lowercase, Docker Hub folded to docker.io, IPv6 canonical
	repo    string // the repository path; "" for a bare host
	library bool   // a Docker Hub official image: the path is "library/" + repo
}

// path returns the full repository path.
func (r imageRef) path() string {
	if r.library {
		return "library/" + r.repo
	}
	return r.repo
}

// String renders host/path.
func (r imageRef) String() string {
	if r.repo == "" {
		return r.host
	}
	return r.host + "/" + r.path()
}

// refError is why a reference does not parse; it wraps ErrInvalid.
type refError struct {
	ref    string
	reason string
}

func (e *refError) Error() string {
	return fmt.Sprintf("image reference %q %s", e.ref, e.reason)
}

func (e *refError) Is(target error) bool { return target == registry.ErrInvalid }

// maxRepoPath is distribution's RepositoryNameTotalLengthMax.
const maxRepoPath = 255

// parseImageRef parses an image reference, a bare registry host or a server URL.
func parseImageRef(s string) (imageRef, error) {
	bad := func(reason string) (imageRef, error) { return imageRef{}, &refError{ref: s, reason: reason} }
	if s == "" {
		return bad("is empty")
	}
	if strings.Contains(s, "://") {
		srv, err := registry.ParseServer(s)
		if err != nil {
			return bad("is not a registry URL: " + err.Error())
		}
		if srv.Wildcard {
			return bad("is a wildcard pattern, not a registry")
		}
		return imageRef{host: srv.Canonical(), repo: srv.Path}, nil
	}
	if isHexIdentifier(s) {
		return bad("is a 64-character image ID, not a name")
	}
	if !strings.ContainsAny(s, "/@") {
		if h, ok := bareHost(s); ok {
			return imageRef{host: h}, nil
		}
	}
	name := s
	if i := strings.IndexByte(name, '@'); i >= 0 {
		if !validDigest(name[i+1:]) {
			return bad("has a malformed digest (want sha256:<64 lowercase hex digits>)")
		}
		name = name[:i]
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 && i > strings.LastIndexByte(name, '/') {
		if !validTag(name[i+1:]) {
			return bad("has a malformed tag")
		}
		name = name[:i]
	}
	var ref imageRef
	first, rest, hasSlash := strings.Cut(name, "/")
	if hasSlash && (first == "localhost" || strings.ContainsAny(first, ".:") || hosts.LowerASCII(first) != first) {
		h, ok := parseDomain(first)
		if !ok {
			return bad("has a malformed registry host " + fmt.Sprintf("%q", first))
		}
		ref.host, ref.repo = h, rest
	} else {
		ref.host, ref.repo = hosts.DockerHub, name
	}
	if ref.host == hosts.DockerHub && !strings.Contains(ref.repo, "/") {
		ref.library = true
	}
	if ref.repo == "" {
		return bad("has no repository name")
	}
	if hosts.LowerASCII(ref.repo) != ref.repo {
		return bad("has uppercase letters in the repository name (repository names are lowercase)")
	}
	n := len(ref.repo)
	if ref.library {
		n += len("library/")
	}
	if n > maxRepoPath {
		return bad("has a repository name longer than 255 characters")
	}
	for seg := range strings.SplitSeq(ref.repo, "/") {
		if seg == "" || !registry.RepoSegment(seg) {
			return bad(fmt.Sprintf("has an invalid path component %q", seg))
		}
	}
	return ref, nil
}

// bareHost reads s (no '/' or '@') as a registry host: a host[:port] whose host has a '.',
// is localhost or is a bracketed IPv6 literal.
func bareHost(s string) (string, bool) {
	host := s
	if strings.HasPrefix(s, "[") {
		return parseDomain(s)
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		host = s[:i]
	}
	if hosts.LowerASCII(host) != "localhost" && !strings.Contains(host, ".") {
		return "", false
	}
	return parseDomain(s)
}

// parseDomain checks distribution's domain grammar, host[:port] with host a DNS name of
// [a-zA-Z0-9-] components or a bracketed IPv6 literal, and returns the canonical host.
func parseDomain(d string) (string, bool) {
	host, port := d, ""
	if strings.HasPrefix(d, "[") {
		end := strings.IndexByte(d, ']')
		if end < 0 {
			return "", false
		}
		host, port = d[:end+1], d[end+1:]
		if len(host) == 2 {
			return "", false
		}
		for i := 1; i < len(host)-1; i++ {
			c := host[i]
			if !(c == ':' || c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return "", false
			}
		}
	} else {
		if i := strings.IndexByte(d, ':'); i >= 0 {
			host, port = d[:i], d[i:]
		}
		if !validDomainName(host) {
			return "", false
		}
	}
	if port != "" {
		if port[0] != ':' || len(port) == 1 {
			return "", false
		}
		for i := 1; i < len(port); i++ {
			if port[i] < '0' || port[i] > '9' {
				return "", false
			}
		}
	}
	return hosts.Canonical(hosts.LowerASCII(d)), true
}

// validDomainName: components of [a-zA-Z0-9] with inner '-', separated by single dots.
func validDomainName(h string) bool {
	if h == "" {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validTag: [\w][\w.-]{0,127}.
func validTag(t string) bool {
	if t == "" || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// validDigest accepts the digests go-digest validates: sha256, sha384 or sha512 with the
// matching number of lowercase hex digits.
func validDigest(d string) bool {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok {
		return false
	}
	want := map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}[alg]
	if want == 0 || len(hex) != want {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func isHexIdentifier(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
