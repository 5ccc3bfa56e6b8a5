package dockerconfig

import (
	"github.com/regcred/regcred/internal/hosts"
	"net"
	"strings"
	"unicode"
)

// Key returns the auths key docker uses for server.
//
//   - Docker Hub, under any alias ("docker.io", "index.docker.io", "registry-1.docker.io",
//     with or without scheme, "/v1/" or a path), is HubKey "https://index.docker.io/v1/":
//     docker and the kubelet look Hub up under that one key only.
//   - Any other server becomes host[:port][/path]: the scheme ("https://", "http://") and
//     surrounding blanks and slashes are dropped, the host is lowercased, and an API
//     version path ("/v1/", "/v2/") is dropped. Another path is kept: it scopes the entry
//     to the repositories under it, as the kubelet and containers' auth files match it.
//   - IPv6 literals follow docker/cli's ConvertToHostname: after a scheme the host is
//     written [addr]:port ("https://::1:6555/v2/" and "https://[::1]:6555" are both
//     "[::1]:6555"; an unbracketed literal's last group is its port when it is digits, as
//     docker reads it), and a bracketed literal keeps its brackets ("https://[::1]/" is
//     "[::1]", the form image references use; docker/cli gives "::1" there, which it marks
//     as a FIXME). Without a scheme the host is kept as written, as docker does.
//   - User info ("user:password@") is dropped, with or without a scheme: a key never holds
//     a password (docker/cli drops it after a scheme only).
//
// Key is idempotent, and "" stays "". It does not validate; registry.ParseServer does.
func Key(server string) string {
	s := strings.TrimSpace(server)
	scheme := false
	if i := strings.Index(s, "://"); i >= 0 && !strings.Contains(s[:i], "/") {
		s, scheme = s[i+3:], true
	}
	// Drop surrounding blanks and slashes, and user info; dropping user info can uncover
	// blanks, slashes or more user info, so repeat until the host has none (s shrinks).
	for {
		s = strings.TrimFunc(s, func(r rune) bool { return r == '/' || unicode.IsSpace(r) })
		host, _, _ := strings.Cut(s, "/")
		at := strings.LastIndexByte(host, '@')
		if at < 0 {
			break
		}
		s = s[at+1:]
	}
	if s == "" {
		return ""
	}
	host, path, _ := strings.Cut(s, "/")
	if scheme {
		host = bracketIPv6(host)
	}
	host = hosts.LowerASCII(host)
	if hosts.IsDockerHub(host) {
		return HubKey
	}
	path = cleanPath(path)
	if path == "" {
		return host
	}
	return host + "/" + path
}

// bracketIPv6 writes an IPv6 literal with a port as [addr]:port. An unbracketed literal's
// last group is taken as the port when it is all digits, as docker/cli's
// hostFromURLFallback does.
func bracketIPv6(host string) string {
	if strings.HasPrefix(host, "[") {
		if h, p, err := net.SplitHostPort(host); err == nil && p != "" {
			return net.JoinHostPort(h, p)
		}
		return host
	}
	if strings.Count(host, ":") < 2 {
		return host
	}
	i := strings.LastIndexByte(host, ':')
	addr, port := host[:i], host[i+1:]
	if addr == "" || port == "" || strings.Trim(port, "0123456789") != "" {
		return host
	}
	return "[" + addr + "]:" + port
}

// cleanPath drops empty segments and a lone API version segment.
func cleanPath(p string) string {
	if p == "" {
		return ""
	}
	if p[0] != '/' && p[len(p)-1] != '/' && !strings.Contains(p, "//") && p != "v1" && p != "v2" {
		return p
	}
	segs := strings.Split(p, "/")
	out := segs[:0]
	for _, s := range segs {
		if s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 1 && (out[0] == "v1" || out[0] == "v2") {
		return ""
	}
	return strings.Join(out, "/")
}

// hostKey is k without its path: the key a credential helper is asked for.
func hostKey(k string) string {
	if k == HubKey {
		return k
	}
	h, _, _ := strings.Cut(k, "/")
	return h
}

// parentKey is k with one path segment fewer, or "" for a bare host.
func parentKey(k string) string {
	if k == HubKey {
		return ""
	}
	i := strings.LastIndexByte(k, '/')
	if i < 0 {
		return ""
	}
	return k[:i]
}
