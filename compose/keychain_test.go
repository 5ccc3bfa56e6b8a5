package compose

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/keychain"
)

const (
	plainUser = "plain-bot"
	plainPass = "Pl4in-pa55word"
)

// plainRegistry is a registry on loopback that speaks plain HTTP and wants basic auth,
// holding one image; it counts the requests that reach it and those with credentials.
type plainRegistry struct {
	host             string
	image            string
	requests, authed atomic.Int64
	// with startRedirectingRegistry: blobs are answered by 307 to a storage server
	storageRequests, storageAuthed atomic.Int64
}

func startPlainRegistry(t *testing.T) *plainRegistry { return startPlain(t, false) }

// startRedirectingRegistry is a plainRegistry whose blob GETs are redirected (307) to a
// storage server on another port of 127.0.0.1, which counts what reaches it.
func startRedirectingRegistry(t *testing.T) *plainRegistry { return startPlain(t, true) }

func startPlain(t *testing.T, redirectBlobs bool) *plainRegistry {
	t.Helper()
	p := &plainRegistry{}
	inner := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.storageRequests.Add(1)
		if r.Header.Get("Authorization") != "" {
			p.storageAuthed.Add(1)
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(storage.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		u, pw, ok := r.BasicAuth()
		if ok {
			p.authed.Add(1)
		}
		if !ok || u != plainUser || pw != plainPass {
			w.Header().Set("WWW-Authenticate", `Basic realm="plain"`)
			w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		if redirectBlobs && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
			http.Redirect(w, r, storage.URL+r.URL.Path+"?X-Amz-Signature=x", http.StatusTemporaryRedirect)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.host = strings.TrimPrefix(srv.URL, "http://")
	p.image = p.host + "/plain/app:v1"
	ref, err := name.ParseReference(p.image, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: plainUser, Password: plainPass})); err != nil {
		t.Fatal(err)
	}
	p.requests.Store(0)
	p.authed.Store(0)
	p.storageRequests.Store(0)
	return p
}

func (p *plainRegistry) record(server string, tlsSettings registry.TLS) registry.Registry {
	return registry.Registry{ID: "plain", Name: "plain registry", Kind: registry.KindCustom, Server: server, TLS: tlsSettings,
		Fields: map[string]string{"username": plainUser, "password": plainPass}}
}

// tlsModesThatForbidHTTP are the modes whose records must never reach a registry over
// plain http: the record is saved as https (or without a scheme).
func tlsModesThatForbidHTTP(t *testing.T) []registry.TLS {
	return []registry.TLS{{Mode: registry.TLSSecure}, {Mode: registry.TLSCustomCA, CABundle: string(testenv.NewCA(t).CertPEM)}}
}

// The config dir docker-compose reads gets no credentials for a secure record whose
// registry does not speak TLS: the daemon would retry over plain http with them.
func TestWriteConfigDirRefusesRegistryWithoutTLS(t *testing.T) {
	p := startPlainRegistry(t)
	for _, mode := range tlsModesThatForbidHTTP(t) {
		t.Run(string(mode.Mode), func(t *testing.T) {
			kc, err := keychain.New([]registry.Registry{p.record("https://"+p.host, mode)})
			if err != nil {
				t.Fatal(err)
			}
			cd, cleanup, err := WriteConfigDir(context.Background(), kc, []Image{{Ref: p.image, Host: p.host, Services: []string{"app"}}}, WithParentDir(t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			defer cleanup()
			if len(cd.Problems) != 1 || !errors.Is(cd.Problems[0], registry.ErrHTTPInSecureMode) {
				t.Fatalf("problems = %v, want one wrapping ErrHTTPInSecureMode", cd.Problems)
			}
			if len(cd.Servers) != 0 {
				t.Fatalf("servers = %v, want none", cd.Servers)
			}
			b, err := os.ReadFile(filepath.Join(cd.Dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), p.host) {
				t.Fatalf("config.json names the registry:\n%s", b)
			}
		})
	}
	t.Run("insecure mode keeps its entry", func(t *testing.T) {
		kc, _ := keychain.New([]registry.Registry{p.record("http://"+p.host, registry.TLS{Mode: registry.TLSInsecure})})
		cd, cleanup, err := WriteConfigDir(context.Background(), kc, []Image{{Ref: p.image, Host: p.host}}, WithParentDir(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		defer cleanup()
		if len(cd.Problems) != 0 || len(cd.Servers) != 1 {
			t.Fatalf("problems %v, servers %v", cd.Problems, cd.Servers)
		}
	})
}

// A TLS registry whose certificate the mode trusts passes the check.
func TestLookupAcceptsTrustedTLS(t *testing.T) {
	ca := testenv.NewCA(t)
	cert := ca.Issue(t, testenv.CertSpec{})
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = tlsConfigFor(cert)
	srv.StartTLS()
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	rec := registry.Registry{ID: "tls", Name: "tls", Kind: registry.KindCustom, Server: host,
		TLS: registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(ca.CertPEM)}, Fields: map[string]string{"username": "u", "password": "p"}}
	kc, _ := keychain.New([]registry.Registry{rec})
	rs, err := lookup(context.Background(), kc, host+"/a/b:1")
	if err != nil || rs.creds.Anonymous() {
		t.Fatalf("lookup: %+v %v", rs.matched, err)
	}
	other := rec
	other.TLS = registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(testenv.NewCA(t).CertPEM)}
	kc, _ = keychain.New([]registry.Registry{other})
	if _, err := lookup(context.Background(), kc, host+"/a/b:1"); !errors.Is(err, registry.ErrTLSUnknownAuthority) {
		t.Fatalf("a certificate the mode does not trust: %v", err)
	}
}

func tlsConfigFor(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}}
}
