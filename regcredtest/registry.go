package regcredtest

import (
	"context"
	"crypto/subtle"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/keychain"
)

// Default credentials and image of a Registry.
const (
	DefaultUsername = "deploy"
	DefaultPassword = "regcredtest-Pa55word"
	DefaultImage    = "team/app:v1"
)

// Auth is how a Registry asks clients to authenticate.
type Auth int

const (
	// AuthBasic answers 401 with a Basic challenge and takes HTTP basic auth on every
	// request.
	AuthBasic Auth = iota
	// AuthBearer answers 401 with a Bearer challenge naming its own token endpoint
	// (https://HOST/token, service "regcredtest"), as the distribution token
	// authentication specification describes; the endpoint takes the credentials (GET with
	// basic auth, or the OAuth2 password grant by POST) and issues short-lived signed
	// tokens that the registry checks (signature, audience, expiry by the Registry's clock,
	// and the repository and action of the request).
	AuthBearer
)

func (a Auth) String() string {
	if a == AuthBearer {
		return "bearer"
	}
	return "basic"
}

// Registry is an OCI registry running in the test process (go-containerregistry's
// in-memory registry) over TLS with a certificate of its own, behind basic or bearer
// authentication, holding one image. It counts the requests it answers. It stops when the
// test ends. Methods are safe for concurrent use.
type Registry struct {
	// Host is 127.0.0.1:PORT, the registry's server as a record names it.
	Host string
	// URL is https://Host.
	URL string
	// Image is the reference of the image the registry holds: Host/team/app:v1 unless
	// WithImage names another repository and tag.
	Image string
	// Digest is the image's manifest digest (sha256:...).
	Digest string
	// CAPEM is the PEM of the certificate that signs the serving certificate: what a
	// record's custom CA bundle holds (TLS).
	CAPEM []byte
	// CertPool holds that certificate, for an http.Client or a tls.Config of your own.
	CertPool *x509.CertPool
	// Auth is the authentication the registry requires.
	Auth Auth

	srv    *httptest.Server
	inner  http.Handler
	clk    clock.Clock
	tokens *tokenIssuer

	mu         sync.Mutex
	user, pass string

	requests, unauthorized, tokenRequests, manifestGets atomic.Int64
}

// RegistryOption configures NewRegistry.
type RegistryOption func(*registryConfig)

type registryConfig struct {
	auth       Auth
	user, pass string
	image      string
	clk        clock.Clock
	tokenLife  int
}

// WithBasicAuth makes the registry take HTTP basic auth for user and pass (the default,
// with DefaultUsername and DefaultPassword).
func WithBasicAuth(user, pass string) RegistryOption {
	return func(c *registryConfig) { c.auth, c.user, c.pass = AuthBasic, user, pass }
}

// WithBearerAuth makes the registry require bearer tokens from its token endpoint, which
// issues them for user and pass.
func WithBearerAuth(user, pass string) RegistryOption {
	return func(c *registryConfig) { c.auth, c.user, c.pass = AuthBearer, user, pass }
}

// WithImage sets the repository and tag of the image the registry holds ("team/app:v1"
// by default).
func WithImage(repoAndTag string) RegistryOption {
	return func(c *registryConfig) { c.image = repoAndTag }
}

// WithClock sets the clock bearer tokens are issued and checked by (default the system
// clock), so a test can make them expire (a *clock.Fake from NewClock).
func WithClock(c clock.Clock) RegistryOption {
	return func(cfg *registryConfig) { cfg.clk = c }
}

// WithTokenLifetime sets the lifetime of bearer tokens in seconds (default 300; the
// specification's minimum, 60, applies).
func WithTokenLifetime(seconds int) RegistryOption {
	return func(c *registryConfig) { c.tokenLife = seconds }
}

// NewRegistry starts a registry holding one small random image and returns it; it stops
// when the test ends. A failure to start fails the test.
func NewRegistry(t testing.TB, opts ...RegistryOption) *Registry {
	t.Helper()
	cfg := registryConfig{auth: AuthBasic, user: DefaultUsername, pass: DefaultPassword, image: DefaultImage, tokenLife: 300}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.tokenLife < 60 {
		cfg.tokenLife = 60
	}
	r := &Registry{
		Auth:  cfg.auth,
		inner: ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))),
		clk:   clock.Or(cfg.clk),
		user:  cfg.user,
		pass:  cfg.pass,
	}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	r.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // clients that refuse the certificate are part of the tests
	r.srv.StartTLS()
	t.Cleanup(r.srv.Close)
	r.Host = strings.TrimPrefix(r.srv.URL, "https://")
	r.URL = r.srv.URL
	r.CAPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.srv.Certificate().Raw})
	r.CertPool = x509.NewCertPool()
	r.CertPool.AddCert(r.srv.Certificate())
	r.tokens = newTokenIssuer(r.Host, "regcredtest", cfg.tokenLife, r.clk)

	ref, err := name.ParseReference(r.Host + "/" + cfg.image)
	if err != nil {
		t.Fatalf("regcredtest: image %q: %v", cfg.image, err)
	}
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatalf("regcredtest: make the image: %v", err)
	}
	// The image goes straight into the in-memory registry, past the authentication and
	// the counters: what a test counts is its own traffic.
	if err := remote.Write(ref, img, remote.WithTransport(handlerTransport{r.inner})); err != nil {
		t.Fatalf("regcredtest: store the image: %v", err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatalf("regcredtest: image digest: %v", err)
	}
	r.Image, r.Digest = ref.Name(), d.String()
	return r
}

// handlerTransport answers every request with h, in process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	in := req.Clone(req.Context())
	if in.Body == nil {
		in.Body = http.NoBody // a server's request always has a body
	}
	t.h.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = req // the client resolves relative Location headers against it
	return resp, nil
}

// Username and Password return the credentials the registry takes now.
func (r *Registry) Username() string { r.mu.Lock(); defer r.mu.Unlock(); return r.user }

// Password: see Username.
func (r *Registry) Password() string { r.mu.Lock(); defer r.mu.Unlock(); return r.pass }

// SetCredentials changes the credentials the registry takes, as a rotation on the
// registry's side does: the old ones stop working at once (bearer tokens already issued
// stay valid until they expire, as with a real token service).
func (r *Registry) SetCredentials(user, pass string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.user, r.pass = user, pass
}

// TLS returns the TLS settings a record of this registry needs: a custom CA bundle
// holding CAPEM.
func (r *Registry) TLS() registry.TLS {
	return registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(r.CAPEM)}
}

// Record returns a record of this registry, ready for Catalog.Add: kind Custom, the
// server, the TLS settings and the current credentials.
func (r *Registry) Record(name string) registry.Registry {
	return registry.Registry{Name: name, Kind: registry.KindCustom, Server: r.Host, TLS: r.TLS(),
		Fields: map[string]string{"username": r.Username(), "password": r.Password()}}
}

// Client returns an HTTP client that trusts the registry's certificate (and sends no
// credentials).
func (r *Registry) Client() *http.Client { return r.srv.Client() }

// Counts is a snapshot of what a Registry answered.
type Counts struct {
	// Requests is every request to the registry API (/v2/...), answered or refused.
	Requests int64
	// Unauthorized is the requests refused with 401 (no, wrong or expired credentials).
	Unauthorized int64
	// TokenRequests is the requests to the token endpoint (bearer auth), issued or refused.
	TokenRequests int64
	// ManifestGets is the authorized GETs of a manifest: one per image pull.
	ManifestGets int64
}

func (c Counts) String() string {
	return fmt.Sprintf("requests=%d unauthorized=%d tokens=%d pulls=%d", c.Requests, c.Unauthorized, c.TokenRequests, c.ManifestGets)
}

// Counts returns the counters.
func (r *Registry) Counts() Counts {
	return Counts{Requests: r.requests.Load(), Unauthorized: r.unauthorized.Load(),
		TokenRequests: r.tokenRequests.Load(), ManifestGets: r.manifestGets.Load()}
}

// ResetCounts sets every counter to zero.
func (r *Registry) ResetCounts() {
	r.requests.Store(0)
	r.unauthorized.Store(0)
	r.tokenRequests.Store(0)
	r.manifestGets.Store(0)
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == "/token" {
		r.tokenRequests.Add(1)
		if r.Auth != AuthBearer {
			http.NotFound(w, req)
			return
		}
		r.serveToken(w, req)
		return
	}
	r.requests.Add(1)
	repo, action := access(req)
	if !r.authorized(req, repo, action) {
		r.unauthorized.Add(1)
		r.challenge(w, repo, action)
		return
	}
	if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/manifests/") {
		r.manifestGets.Add(1)
	}
	r.inner.ServeHTTP(w, req)
}

// access returns the repository and action a registry API request needs ("", "" for the
// base /v2/ endpoint).
func access(req *http.Request) (repo, action string) {
	p := strings.TrimPrefix(req.URL.Path, "/v2/")
	if p == req.URL.Path || p == "" {
		return "", ""
	}
	for _, sep := range []string{"/manifests/", "/blobs/", "/tags/", "/referrers/"} {
		if i := strings.Index(p, sep); i > 0 {
			repo = p[:i]
			break
		}
	}
	if repo == "" {
		return "", ""
	}
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return repo, "pull"
	}
	return repo, "push"
}

func (r *Registry) authorized(req *http.Request, repo, action string) bool {
	h := req.Header.Get("Authorization")
	switch r.Auth {
	case AuthBearer:
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return false
		}
		return r.tokens.verify(tok, repo, action) == nil
	default:
		u, p, ok := req.BasicAuth()
		return ok && r.credentialsOK(u, p)
	}
}

func (r *Registry) credentialsOK(user, pass string) bool {
	r.mu.Lock()
	wantU, wantP := r.user, r.pass
	r.mu.Unlock()
	// both compared in full, in constant time
	okU := subtle.ConstantTimeCompare([]byte(user), []byte(wantU))
	okP := subtle.ConstantTimeCompare([]byte(pass), []byte(wantP))
	return okU&okP == 1
}

func (r *Registry) challenge(w http.ResponseWriter, repo, action string) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if r.Auth == AuthBearer {
		c := fmt.Sprintf(`Bearer realm="%s/token",service="%s"`, r.URL, r.tokens.service)
		if repo != "" {
			c += fmt.Sprintf(`,scope="repository:%s:%s"`, repo, action)
		}
		w.Header().Set("WWW-Authenticate", c)
	} else {
		w.Header().Set("WWW-Authenticate", `Basic realm="regcredtest"`)
	}
	writeRegistryError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
}

// writeRegistryError writes the distribution API's error body.
func writeRegistryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":%q}]}`, code, msg)
}

// Pull fetches the registry's image with go-containerregistry through kc (a Catalog's
// Keychain, or any authn.Keychain-like lookup) and returns its manifest digest: the check
// a platform's test makes that credentials really work. It uses the transport the
// Keychain gives for the image, so the record's TLS settings apply.
func Pull(ctx context.Context, kc *keychain.Keychain, image string) (string, error) {
	ref, err := name.ParseReference(image)
	if err != nil {
		return "", err
	}
	tr, err := kc.Transport(image)
	if err != nil {
		return "", err
	}
	img, err := remote.Image(ref, remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithTransport(tr))
	if err != nil {
		return "", err
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	// read every layer: a pull is not done until the blobs came
	layers, err := img.Layers()
	if err != nil {
		return "", err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return "", err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return "", err
		}
	}
	return d.String(), nil
}
