package swarm

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	dockerswarm "github.com/docker/docker/api/types/swarm"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
)

// plainServer is an HTTP (no TLS) server on loopback that counts what reaches it, as the
// Docker daemon would reach a registry it deems insecure.
func plainServer(t *testing.T) (host string, requests *atomic.Int64) {
	t.Helper()
	requests = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("WWW-Authenticate", `Basic realm="plain"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), requests
}

// tlsServer is a TLS server on loopback with a certificate of ca.
func tlsServer(t *testing.T, ca *testenv.CA) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, testenv.CertSpec{})}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "https://")
}

var creds = registry.Credentials{Username: "alice", Password: "hunter22"}

// TestLoginChecksTLSBeforeTheDaemon: Login hands the credentials to the daemon only when
// the registry passes a TLS handshake under the record's mode (secure by default), or the
// record is insecure; a registry that cannot be reached from here is left to the daemon.
func TestLoginChecksTLSBeforeTheDaemon(t *testing.T) {
	plain, plainRequests := plainServer(t)
	ca := testenv.NewCA(t)
	trusted := tlsServer(t, ca)
	customCA := registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(ca.CertPEM)}
	otherCA := registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(testenv.NewCA(t).CertPEM)}
	for _, tc := range []struct {
		name   string
		server string
		creds  registry.Credentials
		opts   []Option
		want   error // nil: the daemon is asked
	}{
		{"plain http, no option", plain, creds, nil, registry.ErrHTTPInSecureMode},
		{"plain http, secure", plain, creds, []Option{WithTLS(registry.TLS{Mode: registry.TLSSecure})}, registry.ErrHTTPInSecureMode},
		{"plain http, http:// server", "http://" + plain, creds, nil, registry.ErrHTTPInSecureMode},
		{"plain http, custom CA", plain, creds, []Option{WithTLS(customCA)}, registry.ErrHTTPInSecureMode},
		{"plain http, insecure", plain, creds, []Option{WithTLS(registry.TLS{Mode: registry.TLSInsecure})}, nil},
		{"plain http, anonymous", plain, registry.Credentials{}, nil, nil},
		{"tls, the record's CA", trusted, creds, []Option{WithTLS(customCA)}, nil},
		{"tls, another CA", trusted, creds, []Option{WithTLS(otherCA)}, registry.ErrTLSUnknownAuthority},
		{"tls, system roots", trusted, creds, nil, registry.ErrTLSUnknownAuthority},
		{"tls, insecure", trusted, creds, []Option{WithTLS(registry.TLS{Mode: registry.TLSInsecure})}, nil},
		{"nothing listening: the daemon decides", closedPort(t), creds, nil, nil},
		{"a CA bundle without a certificate", trusted, creds, []Option{WithTLS(registry.TLS{Mode: registry.TLSCustomCA, CABundle: "junk"})}, registry.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plainRequests.Store(0)
			f := &fakeEngine{}
			_, err := Login(context.Background(), f, tc.server, tc.creds, tc.opts...)
			if tc.want == nil {
				if err != nil || f.logins != 1 {
					t.Fatalf("Login = %v after %d daemon calls, want the daemon asked once", err, f.logins)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Login = %v, want %v", err, tc.want)
			}
			if f.logins != 0 || f.gotAuth.Password != "" {
				t.Fatalf("the daemon was given the credentials (%d calls)", f.logins)
			}
			var re *registry.Error
			if !errors.As(err, &re) || re.Op != "engine login" {
				t.Errorf("%v is not a *registry.Error of the engine login", err)
			}
			if strings.Contains(err.Error(), "hunter22") {
				t.Errorf("the error leaks the password: %v", err)
			}
		})
	}
	if n := plainRequests.Load(); n != 0 {
		t.Errorf("%d HTTP requests reached the plain server: the check must only handshake", n)
	}
}

// TestCLILoginChecksTLSBeforeTheCLI: the docker CLI, which hands the credentials to the
// daemon, is not run for a secure record on a plain-HTTP registry.
func TestCLILoginChecksTLSBeforeTheCLI(t *testing.T) {
	plain, _ := plainServer(t)
	dir := t.TempDir()
	fake := filepath.Join(dir, "docker")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\ncat > \"$REC/stdin\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := []Option{WithDockerBinary(fake), WithEnv("REC=" + dir)}
	err := CLILogin(context.Background(), t.TempDir(), plain, creds, opts...)
	if !errors.Is(err, registry.ErrHTTPInSecureMode) {
		t.Fatalf("CLILogin = %v, want ErrHTTPInSecureMode", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "stdin")); !os.IsNotExist(err) {
		t.Fatal("the CLI ran and was given the password")
	}
	if err := CLILogin(context.Background(), t.TempDir(), plain, creds, append(opts, WithTLS(registry.TLS{Mode: registry.TLSInsecure}))...); err != nil {
		t.Fatalf("insecure record: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "stdin")); string(b) != "hunter22" {
		t.Fatalf("insecure record: the CLI got %q on stdin", b)
	}
}

func serviceSpec(image string) dockerswarm.ServiceSpec {
	return dockerswarm.ServiceSpec{Annotations: dockerswarm.Annotations{Name: "web"},
		TaskTemplate: dockerswarm.TaskSpec{ContainerSpec: &dockerswarm.ContainerSpec{Image: image}}}
}

// TestServiceAuthChecksTLSBeforeTheDaemon: CreateService and UpdateServiceAuth check the
// image's registry (where the workers take the credentials) before the daemon gets the
// X-Registry-Auth, refuse an auth for another host or one that does not decode, and let an
// anonymous one through.
func TestServiceAuthChecksTLSBeforeTheDaemon(t *testing.T) {
	plain, _ := plainServer(t)
	image := plain + "/team/web:1"
	auth, _ := EncodeAuth(creds, plain)
	other, _ := EncodeAuth(creds, "other.example")
	anonymous, _ := EncodeAuth(registry.Credentials{}, plain)
	insecure := WithTLS(registry.TLS{Mode: registry.TLSInsecure})
	for _, tc := range []struct {
		name  string
		image string
		auth  string
		opts  []Option
		want  error // nil: the daemon is asked
		field string
	}{
		{"plain http, no option", image, auth, nil, registry.ErrHTTPInSecureMode, ""},
		{"plain http, insecure", image, auth, []Option{insecure}, nil, ""},
		{"plain http, digest-pinned image", image + "@sha256:" + strings.Repeat("40", 32), auth, nil, registry.ErrHTTPInSecureMode, ""},
		{"anonymous auth", image, anonymous, nil, nil, ""},
		{"auth of another host", image, other, []Option{insecure}, registry.ErrInvalid, "registryAuth"},
		{"auth that does not decode", image, "!!!", []Option{insecure}, registry.ErrInvalid, "registryAuth"},
		{"auth for Docker Hub, image elsewhere", image, mustEncode(t, creds, "docker.io"), []Option{insecure}, registry.ErrInvalid, "registryAuth"},
	} {
		t.Run("create "+tc.name, func(t *testing.T) {
			f := &fakeEngine{}
			_, _, err := CreateService(context.Background(), f, serviceSpec(tc.image), tc.auth, tc.opts...)
			checkServiceVerdict(t, err, tc.want, tc.field, len(f.creates))
		})
		t.Run("update "+tc.name, func(t *testing.T) {
			f := &fakeEngine{service: dockerswarm.Service{ID: "svc1", Spec: serviceSpec(tc.image)}}
			_, err := UpdateServiceAuth(context.Background(), f, "web", tc.auth, tc.opts...)
			checkServiceVerdict(t, err, tc.want, tc.field, len(f.updates))
		})
	}
}

func mustEncode(t *testing.T, c registry.Credentials, server string) string {
	t.Helper()
	s, err := EncodeAuth(c, server)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checkServiceVerdict(t *testing.T, err, want error, field string, calls int) {
	t.Helper()
	if want == nil {
		if err != nil || calls != 1 {
			t.Fatalf("err = %v after %d daemon calls, want the daemon asked once", err, calls)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if calls != 0 {
		t.Fatalf("the daemon was given the auth (%d calls)", calls)
	}
	var fe *registry.FieldError
	if field != "" && (!errors.As(err, &fe) || fe.Field != field) {
		t.Errorf("err = %v, want a FieldError for %s", err, field)
	}
	if strings.Contains(err.Error(), "hunter22") {
		t.Errorf("the error leaks the password: %v", err)
	}
}

func TestHandshakeHost(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"docker.io", "registry-1.docker.io"},
		{registry.DockerHubServer, "registry-1.docker.io"},
		{"https://Registry.Example.com:5000/", "registry.example.com:5000"},
		{"http://127.0.0.1:5000", "127.0.0.1:5000"},
		{"ghcr.io/team", "ghcr.io"},
		{"[::1]:5000", "[::1]:5000"},
	} {
		if got := handshakeHost(tc.in); got != tc.want {
			t.Errorf("handshakeHost(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// BenchmarkLoginTLSCheck is the price of the TLS gate: a Login against a fake daemon for a
// loopback TLS registry, with the handshake (custom CA mode) and without it (insecure mode,
// what every Login cost before the gate).
func BenchmarkLoginTLSCheck(b *testing.B) {
	ca := testenv.NewCA(b)
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Issue(b, testenv.CertSpec{})}}
	srv.StartTLS()
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	for _, bc := range []struct {
		name string
		tls  registry.TLS
	}{
		{"handshake", registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(ca.CertPEM)}},
		{"insecure", registry.TLS{Mode: registry.TLSInsecure}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := &fakeEngine{}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Login(context.Background(), f, host, creds, WithTLS(bc.tls)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
