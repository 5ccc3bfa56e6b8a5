package dockerconfig

import (
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
//
// Key is idempotent, and "" stays "". It does not validate; registry.ParseServer does.
func Key(server string) string {
	s := strings.TrimSpace(server)
	if i := strings.Index(s, "://"); i >= 0 && !strings.Contains(s[:i], "/") {
		s = s[i+3:]
	}
	s = strings.TrimFunc(s, func(r rune) bool { return r == '/' || unicode.IsSpace(r) })
	if s == "" {
		return ""
	}
	host, path, _ := strings.Cut(s, "/")
	host = lower(host)
	if isHub(host) {
		return HubKey
	}
	path = cleanPath(path)
	if path == "" {
		return host
	}
	return host + "/" + path
}

// isHub reports whether host is one of Docker Hub's names.
func isHub(host string) bool {
	switch host {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return true
	}
	return false
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

// lower lowercases ASCII without allocating when s is lowercase already.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
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
