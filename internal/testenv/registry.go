package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/crypto/bcrypt"
)

// RegistryServer is one running distribution registry (Debian's docker-registry) on
// loopback, stopped when the test ends.
type RegistryServer struct {
	Host     string // 127.0.0.1:PORT
	URL      string // http://127.0.0.1:PORT or https://127.0.0.1:PORT
	Username string // the htpasswd user, or the first token user; "" without auth
	Password string
	CAPEM    []byte // the CA that signed the serving certificate; nil without TLS
	CA       *CA    // nil without TLS (and without token auth, which needs a CA to sign)

	// TokenRealm is the token issuer's URL (https://localhost:PORT/token); "" without token auth.
	TokenRealm string
	// TokenService is the service name the registry announces in its bearer challenge.
	TokenService string

	pushUser, pushPass string
	issuer             *tokenIssuer
	stderr             *syncBuffer
}

// RegistryOption configures StartRegistry.
type RegistryOption func(*registryConfig)

type registryConfig struct {
	basicUser, basicPass string
	tls                  bool
	cert                 *CertSpec
	tokenUsers           []TokenUser
}

// WithBasicAuth protects the registry with htpasswd (bcrypt) for one user.
func WithBasicAuth(user, pass string) RegistryOption {
	return func(c *registryConfig) { c.basicUser, c.basicPass = user, pass }
}

// WithTLS serves https with a certificate for 127.0.0.1, ::1 and localhost signed by a CA
// generated for the test (RegistryServer.CAPEM).
func WithTLS() RegistryOption { return func(c *registryConfig) { c.tls = true } }

// WithCert serves https with a certificate issued from spec: an expired one
// (NotAfter in the past) or one for another name (DNSNames: []string{"other.example"}).
func WithCert(spec CertSpec) RegistryOption {
	return func(c *registryConfig) { c.tls = true; c.cert = &spec }
}

// WithExpiredCert serves https with a certificate that expired an hour ago.
func WithExpiredCert() RegistryOption {
	return WithCert(CertSpec{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
}

// WithWrongNameCert serves https with a valid certificate for another host name only.
func WithWrongNameCert() RegistryOption {
	return WithCert(CertSpec{DNSNames: []string{"other.example"}})
}

// WithTokenAuth protects the registry with distribution's token auth (auth.token): clients
// exchange basic credentials at an issuer the harness runs on loopback for a signed JWT.
// Each call adds a user; grants limit what that user may do (none: everything). The first
// user becomes RegistryServer.Username/Password. Push uses an internal account with full
// access, so a repository a user may not read can still be filled.
func WithTokenAuth(user, pass string, grants ...Grant) RegistryOption {
	return func(c *registryConfig) {
		c.tokenUsers = append(c.tokenUsers, TokenUser{Name: user, Password: pass, Grants: grants})
	}
}

// Skopeo returns the path of skopeo, the independent registry client, or skips/fails the
// test (testenv.Unavailable) when it is not installed.
func Skopeo(t testing.TB) string {
	t.Helper()
	return LookPath(t, "skopeo", "skopeo")
}

// StartRegistry starts Debian's docker-registry (distribution 2.8) on a free loopback port,
// configured by opts, with its storage in t.TempDir(), waits until GET /v2/ answers, and
// stops it when the test ends. Its log goes to the test log when the test fails.
func StartRegistry(t testing.TB, opts ...RegistryOption) *RegistryServer {
	t.Helper()
	bin := LookPath(t, "docker-registry", "docker-registry")
	var cfg registryConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.basicUser != "" && len(cfg.tokenUsers) > 0 {
		t.Fatal("testenv: WithBasicAuth and WithTokenAuth exclude each other")
	}
	dir := t.TempDir()
	s := &RegistryServer{Username: cfg.basicUser, Password: cfg.basicPass}
	s.pushUser, s.pushPass = cfg.basicUser, cfg.basicPass

	var yaml strings.Builder
	fmt.Fprintf(&yaml, "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n")
	fmt.Fprintf(&yaml, "storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\n", quote(filepath.Join(dir, "data")))

	var serving *tls.Certificate
	if cfg.tls || len(cfg.tokenUsers) > 0 {
		s.CA = NewCA(t)
	}
	var certFile, keyFile string
	if cfg.tls {
		spec := CertSpec{}
		if cfg.cert != nil {
			spec = *cfg.cert
		}
		c := s.CA.Issue(t, spec)
		certFile, keyFile = writeKeyPair(t, dir, "registry", c)
		s.CAPEM = s.CA.CertPEM
		// The issuer always serves a good certificate: only the registry's is under test.
		good := s.CA.Issue(t, CertSpec{})
		serving = &good
	}
	switch {
	case cfg.basicUser != "":
		hash, err := bcrypt.GenerateFromPassword([]byte(cfg.basicPass), bcrypt.MinCost)
		if err != nil {
			t.Fatalf("testenv: bcrypt: %v", err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(cfg.basicUser+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatalf("testenv: %v", err)
		}
		fmt.Fprintf(&yaml, "auth:\n  htpasswd:\n    realm: regcred-test\n    path: %s\n", quote(htpasswd))
	case len(cfg.tokenUsers) > 0:
		s.Username, s.Password = cfg.tokenUsers[0].Name, cfg.tokenUsers[0].Password
		s.pushUser, s.pushPass = "regcred-harness", randomHex(16)
		users := append([]TokenUser{{Name: s.pushUser, Password: s.pushPass}}, cfg.tokenUsers...)
		s.issuer = startTokenIssuer(t, s.CA, serving, users)
		s.TokenRealm, s.TokenService = s.issuer.url, s.issuer.service
		bundle := filepath.Join(dir, "token-ca.crt")
		if err := os.WriteFile(bundle, s.CA.CertPEM, 0o600); err != nil {
			t.Fatalf("testenv: %v", err)
		}
		fmt.Fprintf(&yaml, "auth:\n  token:\n    realm: %s\n    service: %s\n    issuer: %s\n    rootcertbundle: %s\n",
			quote(s.issuer.url), quote(s.issuer.service), quote(s.issuer.issuer), quote(bundle))
	}
	base := yaml.String()

	s.serve(t, bin, dir, "docker-registry", base, nil, cfg.tls, certFile, keyFile)
	return s
}

// serve writes config.yml (base plus an http section on a free loopback port, with TLS
// when useTLS), starts bin serve with env (nil: this process's) and waits until GET /v2/
// answers, retrying on another port when the probed one was taken meanwhile. It sets
// s.Host, s.URL and s.stderr, and stops the process when the test ends; label names it
// in the log and in errors.
func (s *RegistryServer) serve(t testing.TB, bin, dir, label, base string, env []string, useTLS bool, certFile, keyFile string) {
	t.Helper()
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	// A free port can be taken between probing and binding; retry a few times.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("testenv: free port: %v", err)
		}
		s.Host = "127.0.0.1:" + strconv.Itoa(port)
		s.URL = scheme + "://" + s.Host
		var httpSection strings.Builder
		fmt.Fprintf(&httpSection, "http:\n  addr: %s\n  secret: %s\n", s.Host, randomHex(16))
		if useTLS {
			fmt.Fprintf(&httpSection, "  tls:\n    certificate: %s\n    key: %s\n", quote(certFile), quote(keyFile))
		}
		cfgFile := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(cfgFile, []byte(base+httpSection.String()), 0o600); err != nil {
			t.Fatalf("testenv: %v", err)
		}
		s.stderr = &syncBuffer{}
		cmd := exec.Command(bin, "serve", cfgFile)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = s.stderr, s.stderr
		dieWithParent(cmd)
		if err := cmd.Start(); err != nil {
			t.Fatalf("testenv: start %s: %v", label, err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		lastErr = s.waitReady(exited, useTLS)
		if lastErr == nil {
			t.Cleanup(func() {
				stopProcess(cmd.Process, exited, syscall.SIGTERM, 5*time.Second)
				if t.Failed() {
					t.Logf("%s log (%s):\n%s", label, s.Host, s.stderr.String())
				}
			})
			return
		}
		cmd.Process.Kill()
		<-exited
		if !strings.Contains(s.stderr.String(), "address already in use") {
			break
		}
	}
	t.Fatalf("testenv: %s did not become ready: %v\nlog:\n%s", label, lastErr, s.stderr.String())
}

// waitReady polls GET /v2/ until the registry answers 200 or 401.
func (s *RegistryServer) waitReady(exited <-chan error, useTLS bool) error {
	tr := &http.Transport{}
	if useTLS {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // readiness only; the cert may be deliberately bad
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for delay := 5 * time.Millisecond; time.Now().Before(deadline); delay = min(delay*2, 200*time.Millisecond) {
		select {
		case err := <-exited:
			return fmt.Errorf("docker-registry exited: %v", err)
		default:
		}
		resp, err := client.Get(s.URL + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("docker-registry exited: %v", err)
		case <-time.After(delay):
		}
	}
	return errors.New("GET /v2/ did not answer within 30s")
}

// Transport returns an *http.Transport that trusts the test CA (plain otherwise).
func (s *RegistryServer) Transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if s.CA != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: s.CA.Pool(), MinVersion: tls.VersionTLS12}
	}
	return tr
}

// TokenRequests is how many requests the token issuer has served (0 without token auth).
func (s *RegistryServer) TokenRequests() int64 {
	if s.issuer == nil {
		return 0
	}
	return s.issuer.requests.Load()
}

// Logs returns what the registry has written so far.
func (s *RegistryServer) Logs() string { return s.stderr.String() }

// Push writes a small random image (one 1 KiB layer) to repo (a tag may follow a colon;
// default "latest") and returns its full reference HOST/repo:tag. It authenticates as the
// harness's pushing account and trusts the test CA. With an expired or wrong-name certificate
// it skips verification, since only the registry's certificate is under test there.
func (s *RegistryServer) Push(t testing.TB, repo string) string {
	t.Helper()
	tag := "latest"
	if i := strings.LastIndex(repo, ":"); i >= 0 {
		repo, tag = repo[:i], repo[i+1:]
	}
	refStr := s.Host + "/" + repo + ":" + tag
	var nopts []name.Option
	if strings.HasPrefix(s.URL, "http://") {
		nopts = append(nopts, name.Insecure)
	}
	ref, err := name.ParseReference(refStr, nopts...)
	if err != nil {
		t.Fatalf("testenv: push %s: %v", refStr, err)
	}
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatalf("testenv: random image: %v", err)
	}
	tr := s.Transport()
	if s.CA != nil && strings.HasPrefix(s.URL, "https://") {
		tr.TLSClientConfig.InsecureSkipVerify = !s.certGood(tr)
	}
	defer tr.CloseIdleConnections()
	auth := authn.Anonymous
	if s.pushUser != "" {
		auth = authn.FromConfig(authn.AuthConfig{Username: s.pushUser, Password: s.pushPass})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := remote.Write(ref, img, remote.WithAuth(auth), remote.WithTransport(tr), remote.WithContext(ctx)); err != nil {
		t.Fatalf("testenv: push %s: %v", refStr, err)
	}
	return refStr
}

// certGood reports whether the registry's certificate verifies against the test CA.
func (s *RegistryServer) certGood(tr *http.Transport) bool {
	conn, err := tls.Dial("tcp", s.Host, tr.TLSClientConfig.Clone())
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// quote makes a YAML double-quoted scalar.
func quote(s string) string { return strconv.Quote(s) }

func itoa(n int) string { return strconv.Itoa(n) }

// syncBuffer is a bytes.Buffer safe for the process's writer goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
