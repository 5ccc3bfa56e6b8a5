package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
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
	scheme := "http"
	if cfg.tls {
		scheme = "https"
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("testenv: free port: %v", err)
		}
		s.Host = "127.0.0.1:" + strconv.Itoa(port)
		s.URL = scheme + "://" + s.Host
		httpSection := fmt.Sprintf("http:\n  addr: %s\n  secret: %s\n", s.Host, randomHex(16))
		if cfg.tls {
			httpSection += fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", quote(certFile), quote(keyFile))
		}
		cfgFile := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(cfgFile, []byte(yaml.String()+httpSection), 0o600); err != nil {
			t.Fatalf("testenv: %v", err)
		}
		s.stderr = &syncBuffer{}
		cmd := exec.Command(bin, "serve", cfgFile)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = s.stderr, s.stderr
		dieWithParent(cmd)
		if err := cmd.Start(); err != nil {
			t.Fatalf("testenv: start docker-registry (mirror): %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		lastErr = s.waitReady(exited, cfg.tls)
		if lastErr == nil {
			t.Cleanup(func() {
				cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(5 * time.Second):
					cmd.Process.Kill()
					<-exited
				}
				if t.Failed() {
					t.Logf("docker-registry mirror log (%s):\n%s", s.Host, s.stderr.String())
				}
			})
			return s
		}
		cmd.Process.Kill()
		<-exited
		if !strings.Contains(s.stderr.String(), "address already in use") {
			break
		}
	}
	t.Fatalf("testenv: docker-registry mirror did not become ready: %v\nlog:\n%s", lastErr, s.stderr.String())
	return nil
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
