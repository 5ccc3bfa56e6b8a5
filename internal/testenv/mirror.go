package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// StartMirror starts a pull-through mirror of upstream: Debian's docker-registry in proxy
// mode (proxy.remoteurl), on a free loopback port, with its access log on so a test can
// see what it served (Logs). Start the upstream first: the proxy pings it at start and
// panics when it is down. An https upstream's test CA is trusted through SSL_CERT_FILE;
// an upstream with basic auth is reached with its credentials.
//
// Of the options, WithTLS and WithCert apply (the mirror's own serving certificate,
// from a CA of its own); auth options are refused.
func StartMirror(t testing.TB, upstream *RegistryServer, opts ...RegistryOption) *RegistryServer {
	t.Helper()
	bin := LookPath(t, "docker-registry", "docker-registry")
	var cfg registryConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.basicUser != "" || len(cfg.tokenUsers) > 0 {
		t.Fatal("testenv: StartMirror takes no auth options")
	}
	if upstream.TokenRealm != "" {
		t.Fatal("testenv: StartMirror cannot front a token-auth upstream")
	}
	dir := t.TempDir()
	s := &RegistryServer{}
	var yaml strings.Builder
	fmt.Fprintf(&yaml, "version: 0.1\nlog:\n  level: info\n")
	fmt.Fprintf(&yaml, "storage:\n  filesystem:\n    rootdirectory: %s\n  maintenance:\n    uploadpurging:\n      enabled: false\n", quote(filepath.Join(dir, "data")))
	fmt.Fprintf(&yaml, "proxy:\n  remoteurl: %s\n", quote(upstream.URL))
	if upstream.pushUser != "" {
		fmt.Fprintf(&yaml, "  username: %s\n  password: %s\n", quote(upstream.pushUser), quote(upstream.pushPass))
	}
	env := os.Environ()
	if upstream.CAPEM != nil {
		bundle := filepath.Join(dir, "upstream-ca.crt")
		if err := os.WriteFile(bundle, upstream.CAPEM, 0o600); err != nil {
			t.Fatalf("testenv: %v", err)
		}
		env = append(env, "SSL_CERT_FILE="+bundle)
	}
	var certFile, keyFile string
	if cfg.tls {
		s.CA = NewCA(t)
		spec := CertSpec{}
		if cfg.cert != nil {
			spec = *cfg.cert
		}
		certFile, keyFile = writeKeyPair(t, dir, "mirror", s.CA.Issue(t, spec))
		s.CAPEM = s.CA.CertPEM
	}
	s.serve(t, bin, dir, "docker-registry mirror", yaml.String(), env, cfg.tls, certFile, keyFile)
	return s
}

// Served reports whether the registry's access log shows a GET or HEAD of path (such as
// "/v2/library/app/manifests/latest", a query may follow) answered 200. The access log is
// on for mirrors only.
func (s *RegistryServer) Served(path string) bool {
	for _, line := range strings.Split(s.Logs(), "\n") {
		if (strings.Contains(line, "\"GET "+path) || strings.Contains(line, "\"HEAD "+path)) && strings.Contains(line, "\" 200 ") {
			return true
		}
	}
	return false
}
