package transport_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
	"github.com/regcred/regcred/registry/keychain"
	"github.com/regcred/regcred/registry/transport"
)

// Hostile and misconfigured loopback servers against every path that pulls or pings: the
// Keychain with go-containerregistry's remote (Keychain.Transport), the connection test,
// and the transport a record's TLS settings build. Each server counts what reaches it on
// the wire.

const (
	wireUser = "robot"
	wirePass = "s3cret-Pa55word"
)

// wire counts what arrives at a listener: connections that opened with a TLS handshake,
// connections that opened with anything else (plain HTTP), HTTP requests, and requests
// that carried an Authorization header.
type wire struct {
	tlsConns, plainConns atomic.Int64
	requests, authed     atomic.Int64
	mu                   sync.Mutex
	paths                []string // "GET /v2/ auth" per request
}

func (w *wire) reset() {
	w.tlsConns.Store(0)
	w.plainConns.Store(0)
	w.requests.Store(0)
	w.authed.Store(0)
	w.mu.Lock()
	w.paths = nil
	w.mu.Unlock()
}

func (w *wire) log() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.paths, "; ")
}

// count wraps a handler to count requests.
func (w *wire) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.requests.Add(1)
		mark := ""
		if r.Header.Get("Authorization") != "" {
			w.authed.Add(1)
			mark = " +Authorization"
		}
		w.mu.Lock()
		w.paths = append(w.paths, r.Method+" "+r.URL.Path+mark)
		w.mu.Unlock()
		h.ServeHTTP(rw, r)
	})
}

type sniffListener struct {
	net.Listener
	w *wire
}

func (l sniffListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &sniffConn{Conn: c, w: l.w}, nil
}

type sniffConn struct {
	net.Conn
	w    *wire
	once sync.Once
}

func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.once.Do(func() {
			if p[0] == 0x16 { // TLS handshake record
				c.w.tlsConns.Add(1)
			} else {
				c.w.plainConns.Add(1)
			}
		})
	}
	return n, err
}

// wireServer starts h on addr ("127.0.0.1:0" when empty), counted, over TLS with cert
// when cert is non-nil.
func wireServer(t *testing.T, addr string, h http.Handler, cert *tls.Certificate) (*httptest.Server, *wire) {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	w := &wire{}
	s := httptest.NewUnstartedServer(w.count(h))
	s.Listener.Close()
	s.Listener = sniffListener{Listener: ln, w: w}
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	if cert != nil {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s, w
}

// basicAuth guards h like distribution's htpasswd auth.
func basicAuth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != wireUser || p != wirePass {
			w.Header().Set("WWW-Authenticate", `Basic realm="wire"`)
			w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func quietRegistry() http.Handler {
	return ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
}

// pushRandom writes a small random image to ref over rt with the test's basic credentials.
func pushRandom(t *testing.T, ref name.Reference, rt http.RoundTripper) {
	t.Helper()
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: wireUser, Password: wirePass}), remote.WithTransport(rt)); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

func wireRecord(server string, tlsSettings registry.TLS) registry.Registry {
	return registry.Registry{ID: "wire-" + server, Version: 1, Name: "wire " + server, Kind: registry.KindCustom, Server: server,
		Fields: map[string]string{"username": wireUser, "password": wirePass}, TLS: tlsSettings}
}

// pullThroughKeychain pulls ref the way the Keychain doc says: the keychain for auth and
// Keychain.Transport for the wire, manifest and every layer read to the end.
func pullThroughKeychain(ctx context.Context, rec registry.Registry, ref string) error {
	kc, err := keychain.New([]registry.Registry{rec})
	if err != nil {
		return err
	}
	var opts []name.Option
	if rec.TLS.Mode == registry.TLSInsecure {
		opts = append(opts, name.Insecure) // go-containerregistry's way to allow http on any host
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return err
	}
	tr, err := kc.Transport(ref)
	if err != nil {
		return err
	}
	img, err := remote.Image(r, remote.WithAuthFromKeychain(kc), remote.WithTransport(tr), remote.WithContext(ctx))
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// A record saved as https in secure or custom CA mode, on a host go-containerregistry
// deems insecure (loopback, localhost), whose server speaks plain HTTP: before, the
// fallback to http sent the Basic credentials in the clear and the pull succeeded. Now
// not one HTTP request reaches the server, on every path.
func TestNoPlainHTTPDowngrade(t *testing.T) {
	srv, w := wireServer(t, "", basicAuth(quietRegistry()), nil)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	seed, err := name.ParseReference(fixture.ServerHost(srv)+"/team/app:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	pushRandom(t, seed, http.DefaultTransport)
	ca := testenv.NewCA(t)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		for _, mode := range []registry.TLS{{Mode: registry.TLSSecure}, {Mode: registry.TLSCustomCA, CABundle: string(ca.CertPEM)}} {
			server := net.JoinHostPort(host, strconv.Itoa(port))
			for _, written := range []string{server, "https://" + server} {
				rec := wireRecord(written, mode)
				ref := server + "/team/app:v1"
				t.Run(written+"/"+string(mode.Mode), func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()

					w.reset()
					err := pullThroughKeychain(ctx, rec, ref)
					if err == nil {
						t.Fatal("the pull succeeded over plain HTTP")
					}
					if !strings.Contains(err.Error(), "plain-http request was refused") {
						t.Errorf("the error does not say the http request was refused: %v", err)
					}
					if n := w.requests.Load(); n != 0 {
						t.Fatalf("keychain path: %d HTTP requests reached the plain-HTTP server (%d with Authorization): %s", n, w.authed.Load(), w.log())
					}

					w.reset()
					rep := conntest.Test(ctx, rec, conntest.WithImage(ref))
					if rep.OK() || !errors.Is(rep.Err(), registry.ErrHTTPInSecureMode) {
						t.Errorf("connection test: want ErrHTTPInSecureMode, got %v", rep.Err())
					}
					if n := w.requests.Load(); n != 0 {
						t.Fatalf("connection test: %d HTTP requests reached the plain-HTTP server: %s", n, w.log())
					}

					w.reset()
					tr, err := transport.DefaultCache.For(rec)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := remote.Head(mustRef(t, ref), remote.WithAuth(&authn.Basic{Username: wireUser, Password: wirePass}),
						remote.WithTransport(tr), remote.WithContext(ctx)); err == nil {
						t.Fatal("remote.Head over the record's transport succeeded over plain HTTP")
					}
					base, err := transport.ForTLS(rec.TLS)
					if err != nil {
						t.Fatal(err)
					}
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+server+"/v2/", nil)
					if _, err := (&http.Client{Transport: base}).Do(req); !errors.Is(err, registry.ErrHTTPInSecureMode) {
						t.Errorf("transport.ForTLS: plain http: want ErrHTTPInSecureMode, got %v", err)
					}
					if n := w.requests.Load(); n != 0 {
						t.Fatalf("transport: %d HTTP requests reached the plain-HTTP server: %s", n, w.log())
					}
				})
			}
		}
	}

	// The control: the same server saved in the insecure mode is pulled from, with the
	// credentials, so the counters above would have seen a downgrade.
	t.Run("insecure mode may use http", func(t *testing.T) {
		w.reset()
		rec := wireRecord("http://"+fixture.ServerHost(srv), registry.TLS{Mode: registry.TLSInsecure})
		if err := pullThroughKeychain(context.Background(), rec, fixture.ServerHost(srv)+"/team/app:v1"); err != nil {
			t.Fatal(err)
		}
		if w.authed.Load() == 0 {
			t.Fatalf("no request carried the credentials: %s", w.log())
		}
	})
}

// A TLS registry whose certificate the record's mode does not trust: the pull fails on
// TLS, and no plain-HTTP connection is ever opened to its port (go-containerregistry's
// fallback used to send GET http://host:port/v2/ to the TLS server).
func TestTLSFailureDoesNotFallBackToHTTP(t *testing.T) {
	ca := testenv.NewCA(t)
	cert := ca.Issue(t, testenv.CertSpec{})
	srv, w := wireServer(t, "", basicAuth(quietRegistry()), &cert)
	host := fixture.ServerHost(srv)
	for _, mode := range []registry.TLS{{Mode: registry.TLSSecure}, {Mode: registry.TLSCustomCA, CABundle: string(testenv.NewCA(t).CertPEM)}} {
		t.Run(string(mode.Mode), func(t *testing.T) {
			w.reset()
			err := pullThroughKeychain(context.Background(), wireRecord(host, mode), host+"/team/app:v1")
			if err == nil {
				t.Fatal("pulled from a registry whose certificate is not trusted")
			}
			if n := w.plainConns.Load(); n != 0 {
				t.Fatalf("%d plain-HTTP connections reached the TLS port (and %d TLS ones)", n, w.tlsConns.Load())
			}
			if w.tlsConns.Load() == 0 {
				t.Fatal("no TLS connection was attempted: the test proves nothing")
			}
		})
	}
}

// A manifest or blob GET answered by 307 to another host (object storage on another port
// of the same address, which net/http's redirect rule treats as the same host) must not
// carry the registry's Authorization there.
func TestRedirectToStorageCarriesNoAuthorization(t *testing.T) {
	ca := testenv.NewCA(t)
	cert := ca.Issue(t, testenv.CertSpec{})
	inner := quietRegistry()
	storage, sw := wireServer(t, "", inner, &cert)
	redirecting := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && (strings.Contains(r.URL.Path, "/blobs/sha256:") || strings.Contains(r.URL.Path, "/manifests/")) ||
			r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/manifests/") {
			http.Redirect(w, r, storage.URL+r.URL.Path+"?X-Amz-Signature=abc", http.StatusTemporaryRedirect)
			return
		}
		inner.ServeHTTP(w, r)
	})
	reg, rw := wireServer(t, "", basicAuth(redirecting), &cert)
	host := fixture.ServerHost(reg)
	rec := wireRecord(host, registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(ca.CertPEM)})
	tr, err := transport.DefaultCache.For(rec)
	if err != nil {
		t.Fatal(err)
	}
	pushRandom(t, mustRef(t, host+"/team/app:v1"), tr)

	check := func(t *testing.T) {
		t.Helper()
		if sw.requests.Load() == 0 {
			t.Fatalf("nothing was redirected to the storage: the test proves nothing (registry saw %s)", rw.log())
		}
		if n := sw.authed.Load(); n != 0 {
			t.Fatalf("%d requests to the storage host carried Authorization: %s", n, sw.log())
		}
	}
	t.Run("keychain", func(t *testing.T) {
		sw.reset()
		if err := pullThroughKeychain(context.Background(), rec, host+"/team/app:v1"); err != nil {
			t.Fatal(err)
		}
		check(t)
	})
	t.Run("connection test image step", func(t *testing.T) {
		sw.reset()
		rep := conntest.Test(context.Background(), rec, conntest.WithImage(host+"/team/app:v1"))
		if !rep.OK() {
			t.Fatal(rep)
		}
		check(t)
	})

	// The same with bearer auth: the token service on the registry's host, the bearer
	// token must not follow the redirect either.
	var realm string
	tokens := tokenServer()
	breg, _ := wireServer(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			tokens.ServeHTTP(w, r)
			return
		}
		bearerRegistry(&realm, redirecting).ServeHTTP(w, r)
	}), &cert)
	realm = breg.URL + "/token"
	bhost := fixture.ServerHost(breg)
	brec := wireRecord(bhost, registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(ca.CertPEM)})
	t.Run("keychain bearer", func(t *testing.T) {
		sw.reset()
		if err := pullThroughKeychain(context.Background(), brec, bhost+"/team/app:v1"); err != nil {
			t.Fatal(err)
		}
		check(t)
	})
	t.Run("connection test image step bearer", func(t *testing.T) {
		sw.reset()
		rep := conntest.Test(context.Background(), brec, conntest.WithImage(bhost+"/team/app:v1"))
		if !rep.OK() {
			t.Fatal(rep)
		}
		check(t)
	})
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A caller's own client that sets the registry's Authorization itself: net/http copies it
// to a redirect on the same host name (another port), the transport removes it.
func TestTransportStripsAuthorizationOnRedirect(t *testing.T) {
	ca := testenv.NewCA(t)
	cert := ca.Issue(t, testenv.CertSpec{})
	storage, sw := wireServer(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "blob") }), &cert)
	reg, _ := wireServer(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, storage.URL+"/blob", http.StatusTemporaryRedirect)
	}), &cert)
	tr, err := transport.DefaultCache.For(wireRecord(fixture.ServerHost(reg), registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(ca.CertPEM)}))
	if err != nil {
		t.Fatal(err)
	}
	for _, auth := range []string{"Basic cm9ib3Q6czNjcmV0", "Bearer registry-token"} {
		sw.reset()
		req, _ := http.NewRequest(http.MethodGet, reg.URL+"/v2/team/app/blobs/sha256:00", nil)
		req.Header.Set("Authorization", auth)
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if sw.requests.Load() != 1 || sw.authed.Load() != 0 {
			t.Fatalf("%s: storage saw %s", auth, sw.log())
		}
	}
}

// localUnicastIP is an address of this machine that is not loopback, so a registry can
// sit in another address class than a realm named localhost.
func localUnicastIP(t *testing.T) net.IP {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
				if ln, err := net.Listen("tcp", net.JoinHostPort(n.IP.String(), "0")); err == nil {
					ln.Close()
					return n.IP
				}
			}
		}
	}
	testenv.Unavailable(t, "a non-loopback IPv4 address", "give the machine a network interface")
	return nil
}

// bearerRegistry guards h with a bearer challenge naming realm; it accepts the token
// "wire-token".
func bearerRegistry(realm *string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer wire-token" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+*realm+`",service="wire"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}`, http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func tokenServer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != wireUser || p != wirePass {
			http.Error(w, "denied", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"token":"wire-token","expires_in":300}`)
	})
}

// A bearer realm named "localhost" (a name, not an IP literal) for a registry that is not
// on loopback: before, the connection test and go-containerregistry both checked IP
// literals only and sent the Basic credentials there. The realm policy refuses it on both
// paths; a registry that is itself on loopback may use a loopback realm (a warning in the
// test, which names the host).
func TestRealmPolicy(t *testing.T) {
	tokens, tw := wireServer(t, "127.0.0.1:0", tokenServer(), nil)
	tokPort := tokens.Listener.Addr().(*net.TCPAddr).Port
	realm := "http://localhost:" + strconv.Itoa(tokPort) + "/token"

	t.Run("registry elsewhere, realm localhost: refused", func(t *testing.T) {
		ip := localUnicastIP(t)
		reg, _ := wireServer(t, net.JoinHostPort(ip.String(), "0"), bearerRegistry(&realm, quietRegistry()), nil)
		host := fixture.ServerHost(reg)
		rec := wireRecord("http://"+host, registry.TLS{Mode: registry.TLSInsecure})

		tw.reset()
		err := pullThroughKeychain(context.Background(), rec, host+"/team/app:v1")
		if err == nil || !strings.Contains(err.Error(), "invalid token realm") {
			t.Errorf("keychain path: want the realm refused, got %v", err)
		}
		if n := tw.requests.Load(); n != 0 {
			t.Fatalf("keychain path: the token service on localhost got %d requests (%d with credentials)", n, tw.authed.Load())
		}

		tw.reset()
		rep := conntest.Test(context.Background(), rec)
		if s := rep.Step(registry.StepPing); s.Verdict != registry.VerdictFailed || !errors.Is(s.Err, registry.ErrRealm) {
			t.Errorf("connection test: ping = %s %v", s.Verdict, s.Err)
		} else if !strings.Contains(s.Cause, "loopback") {
			t.Errorf("cause does not say why: %q", s.Cause)
		}
		if n := tw.requests.Load(); n != 0 {
			t.Fatalf("connection test: the token service on localhost got %d requests", n)
		}
	})

	t.Run("registry and realm on loopback: allowed, warned", func(t *testing.T) {
		reg, _ := wireServer(t, "127.0.0.1:0", bearerRegistry(&realm, quietRegistry()), nil)
		host := fixture.ServerHost(reg)
		rec := wireRecord("http://"+host, registry.TLS{Mode: registry.TLSInsecure})
		seed, _ := name.ParseReference(host+"/team/app:v1", name.Insecure)
		img, _ := random.Image(512, 1)
		if err := remote.Write(seed, img, remote.WithAuth(&authn.Basic{Username: wireUser, Password: wirePass})); err != nil {
			t.Fatal(err)
		}
		tw.reset()
		if err := pullThroughKeychain(context.Background(), rec, host+"/team/app:v1"); err != nil {
			t.Fatal(err)
		}
		if tw.authed.Load() == 0 {
			t.Fatal("the token service never saw the credentials")
		}
		rep := conntest.Test(context.Background(), rec)
		if !rep.OK() {
			t.Fatal(rep)
		}
		if s := rep.Step(registry.StepPing); s.Verdict != registry.VerdictWarning || !strings.Contains(s.Cause, "localhost:"+strconv.Itoa(tokPort)) {
			t.Fatalf("ping: want a warning naming the token host, got %s: %s / %s", s.Verdict, s.Detail, s.Cause)
		}
	})
}
