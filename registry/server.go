package registry

import (
	"github.com/regcred/regcred/internal/hosts"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Server is a parsed registry server: the host (lowercase, with port when one was given,
// IPv6 literals in brackets), an optional repository path prefix that scopes the record
// ("ghcr.io/myorg"), the scheme the user wrote (empty when none), and whether the host is a
// wildcard pattern ("*.azurecr.io", "*.dkr.ecr.*.amazonaws.com").
type Server struct {
	Scheme   string // "https", "http" or ""
	Host     string // "ghcr.io", "registry.example.com:5000", "[::1]:5000", "*.azurecr.io"
	Path     string // "myorg/team" without slashes at either end; "" for the whole host
	Wildcard bool
}

// String renders the server without scheme: host[/path].
func (s Server) String() string {
	if s.Path == "" {
		return s.Host
	}
	return s.Host + "/" + s.Path
}

// ParseServer parses what a user types as a registry URL: "ghcr.io", "https://ghcr.io",
// "registry.example.com:5000", "http://[::1]:5000", "ghcr.io/myorg", "*.azurecr.io",
// "https://index.docker.io/v1/". Hosts are lowercased. It rejects schemes other than
// http/https, user info, queries and fragments, empty or non-numeric or out-of-range ports,
// trailing dots, uppercase letters in the path, and malformed IPv6 literals, each with a
// *FieldError for field "url" that says what to change.
func ParseServer(raw string) (Server, error) {
	const field = "url"
	in := strings.TrimSpace(raw)
	if in == "" {
		return Server{}, &FieldError{Field: field, Reason: "is empty", Hint: "give the registry host, e.g. registry.example.com"}
	}
	if strings.ContainsAny(in, " \t\r\n") {
		return Server{}, &FieldError{Field: field, Reason: "contains whitespace"}
	}
	if strings.Contains(in, "@") { // before any other check: no part of a password is ever quoted
		return Server{}, &FieldError{Field: field, Reason: "contains user info",
			Hint: "put the username and password in their own fields, never in the URL"}
	}
	var s Server
	rest := in
	if i := strings.Index(rest, "://"); i >= 0 {
		s.Scheme = strings.ToLower(rest[:i])
		if s.Scheme != "https" && s.Scheme != "http" {
			return Server{}, &FieldError{Field: field, Reason: "scheme " + quote(rest[:i]) + " is not supported",
				Hint: "use https:// (or http:// with TLS mode insecure), or leave the scheme out"}
		}
		rest = rest[i+3:]
	}
	if strings.ContainsAny(rest, "?#") {
		return Server{}, &FieldError{Field: field, Reason: "has a query or fragment", Hint: "give only host[:port][/path]"}
	}
	hostport, path, _ := strings.Cut(rest, "/")
	host, port, err := splitHostPort(hostport)
	if err != nil {
		return Server{}, err
	}
	if strings.HasSuffix(host, ".") {
		return Server{}, &FieldError{Field: field, Reason: "host " + quote(host) + " ends with a dot", Hint: "remove the trailing dot"}
	}
	host = strings.ToLower(host)
	if strings.HasPrefix(host, "[") {
		ip := net.ParseIP(host[1 : len(host)-1])
		if ip == nil || ip.To4() != nil {
			return Server{}, &FieldError{Field: field, Reason: "bad IPv6 literal " + quote(host)}
		}
		host = "[" + ip.String() + "]"
	} else if err := checkHostname(host); err != nil {
		return Server{}, err
	}
	s.Wildcard = strings.Contains(host, "*")
	s.Host = host
	if port != "" {
		s.Host = host + ":" + port
	}
	path = strings.Trim(path, "/")
	if path == "v1" || path == "v2" { // "https://index.docker.io/v1/" style keys
		path = ""
	}
	if path != "" {
		if strings.ToLower(path) != path {
			return Server{}, &FieldError{Field: field, Reason: "path " + quote(path) + " has uppercase letters",
				Hint: "repository paths are lowercase"}
		}
		for _, seg := range strings.Split(path, "/") {
			if seg == "" || !RepoSegment(seg) {
				return Server{}, &FieldError{Field: field, Reason: "path segment " + quote(seg) + " is not a valid repository name component"}
			}
		}
		if s.Wildcard {
			return Server{}, &FieldError{Field: field, Reason: "a wildcard host cannot have a path"}
		}
	}
	s.Path = path
	return s, nil
}

func splitHostPort(hp string) (host, port string, err error) {
	const field = "url"
	if hp == "" {
		return "", "", &FieldError{Field: field, Reason: "has no host"}
	}
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", "", &FieldError{Field: field, Reason: "IPv6 literal is missing its closing bracket"}
		}
		if rest := hp[end+1:]; rest != "" && !strings.HasPrefix(rest, ":") {
			return "", "", &FieldError{Field: field, Reason: "unexpected text after the IPv6 literal"}
		}
	} else if strings.Count(hp, ":") > 1 {
		return "", "", &FieldError{Field: field, Reason: "looks like an IPv6 address without brackets", Hint: "write it as [addr]:port"}
	}
	host, port = hosts.SplitPort(hp)
	if len(host) == len(hp) {
		return host, "", nil
	}
	port, err = checkPort(port)
	return host, port, err
}

func checkPort(p string) (string, error) {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 || strings.HasPrefix(p, "+") {
		return "", &FieldError{Field: "url", Reason: "port is not a number between 1 and 65535"}
	}
	return strconv.Itoa(n), nil
}

func checkHostname(h string) error {
	if len(h) > 253 {
		return &FieldError{Field: "url", Reason: "host name is longer than 253 characters"}
	}
	for _, label := range strings.Split(h, ".") {
		if label == "*" {
			continue
		}
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return &FieldError{Field: "url", Reason: "host " + quote(h) + " is not a valid host name"}
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return &FieldError{Field: "url", Reason: "host " + quote(h) + " has the character " + quote(string(c))}
			}
		}
	}
	return nil
}

// repoSegment checks one path component against the distribution grammar:
// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
func RepoSegment(s string) bool {
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if !alnum(s[0]) || !alnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if alnum(c) {
			continue
		}
		if c == '-' { // a run of dashes is one separator: it must end before a letter or digit
			if i+1 < len(s) && !alnum(s[i+1]) && s[i+1] != '-' {
				return false
			}
			continue
		}
		if c == '.' || c == '_' {
			if i+1 < len(s) && c == '_' && s[i+1] == '_' {
				i++
			}
			if i+1 < len(s) && !alnum(s[i+1]) {
				return false
			}
			continue
		}
		return false
	}
	return true
}

// BaseURL returns the registry's URL root for the API (scheme://host): https unless the
// user wrote http://.
func (s Server) BaseURL() *url.URL {
	scheme := s.Scheme
	if scheme == "" {
		scheme = "https"
	}
	return &url.URL{Scheme: scheme, Host: s.Host}
}
