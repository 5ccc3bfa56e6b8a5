package swarm

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	dockerswarm "github.com/docker/docker/api/types/swarm"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
)

// countingFront puts a counting reverse proxy on loopback in front of a real plain-HTTP
// docker-registry: every request the daemon sends to the registry passes it, and those
// carrying an Authorization header (the credentials, in clear over http) are counted apart.
type countingFront struct {
	host     string // host:port the daemon is pointed at
	requests atomic.Int64
	authed   atomic.Int64
}

func startCountingFront(t *testing.T, reg *testenv.RegistryServer) *countingFront {
	t.Helper()
	target, err := url.Parse(reg.URL)
	if err != nil {
		t.Fatal(err)
	}
	f := &countingFront{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		if r.Header.Get("Authorization") != "" {
			f.authed.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.host = strings.TrimPrefix(srv.URL, "http://")
	return f
}

func (f *countingFront) reset() { f.requests.Store(0); f.authed.Store(0) }

// TestCredentialsNeverReachPlainHTTPRegistry: the real daemon retries a loopback registry
// over plain http with the credentials when TLS fails. A record in the secure mode (the
// default, no option) or the custom-CA mode must therefore never let Login, CLILogin,
// CreateService or UpdateServiceAuth hand its credentials to the daemon for a registry that
// speaks plain HTTP: each is refused with ErrHTTPInSecureMode and the registry sees no
// request. The insecure mode is the control: the same calls reach the registry with the
// credentials, so the counters would have seen a downgrade.
func TestCredentialsNeverReachPlainHTTPRegistry(t *testing.T) {
	d := testenv.StartDocker(t)
	d.SwarmInit(t)
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth(testUser, testPass))
	pushed := reg.Push(t, "swarm/plain:v1")
	front := startCountingFront(t, reg)
	image := front.host + strings.TrimPrefix(pushed, reg.Host)
	good := registry.Credentials{Username: testUser, Password: testPass}
	auth, err := EncodeAuth(good, front.host)
	if err != nil {
		t.Fatal(err)
	}
	cli := []Option{WithDockerBinary(d.CLIPath), WithEnv("DOCKER_HOST=" + d.Host)}

	// A service created without registry auth, whose auth the update calls below rotate.
	bare := createService(t, d, "regcred-plain-bare", image, "")

	refusing := []struct {
		name string
		opts []Option
	}{
		{"no option (secure)", nil},
		{"secure", []Option{WithTLS(registry.TLS{Mode: registry.TLSSecure})}},
		{"custom CA", []Option{WithTLS(registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(testenv.NewCA(t).CertPEM)})}},
	}
	for _, tc := range refusing {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			wantRefused := func(t *testing.T, what string, err error) {
				t.Helper()
				if !errors.Is(err, registry.ErrHTTPInSecureMode) {
					t.Errorf("%s: %v, want ErrHTTPInSecureMode", what, err)
				}
				if err != nil && strings.Contains(err.Error(), testPass) {
					t.Errorf("%s: the error leaks the password: %v", what, err)
				}
			}

			front.reset()
			_, err := Login(ctx, d.Client, front.host, good, tc.opts...)
			wantRefused(t, "Login", err)
			err = CLILogin(ctx, t.TempDir(), front.host, good, append(cli[:len(cli):len(cli)], tc.opts...)...)
			wantRefused(t, "CLILogin", err)
			if n := front.requests.Load(); n != 0 {
				t.Errorf("login: %d requests (%d with credentials) reached the plain-HTTP registry", n, front.authed.Load())
			}
			front.reset()

			name := "regcred-plain-" + strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(tc.name)
			spec := dockerswarm.ServiceSpec{Annotations: dockerswarm.Annotations{Name: name},
				TaskTemplate: dockerswarm.TaskSpec{ContainerSpec: &dockerswarm.ContainerSpec{Image: image}}}
			id, _, err := CreateService(ctx, d.Client, spec, auth, tc.opts...)
			wantRefused(t, "CreateService", err)
			if id != "" {
				d.Client.ServiceRemove(context.Background(), id)
			}
			services, err := d.Client.ServiceList(ctx, dockerswarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("name", name))})
			if err != nil {
				t.Fatal(err)
			}
			if len(services) != 0 {
				t.Errorf("CreateService was refused, yet the daemon has service %s", name)
			}

			before, _, err := d.Client.ServiceInspectWithRaw(ctx, bare, dockerswarm.ServiceInspectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = UpdateServiceAuth(ctx, d.Client, bare, auth, tc.opts...)
			wantRefused(t, "UpdateServiceAuth", err)
			after, _, err := d.Client.ServiceInspectWithRaw(ctx, bare, dockerswarm.ServiceInspectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if after.Version.Index != before.Version.Index {
				t.Errorf("UpdateServiceAuth was refused, yet the service moved from version %d to %d", before.Version.Index, after.Version.Index)
			}
			// The bare service's own tasks pull anonymously all along; none may carry credentials.
			if n := front.authed.Load(); n != 0 {
				t.Fatalf("services: %d requests with credentials reached the plain-HTTP registry", n)
			}
		})
	}

	t.Run("insecure mode reaches it with the credentials", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		front.reset()
		if _, err := Login(ctx, d.Client, front.host, good, plainHTTP); err != nil {
			t.Fatalf("Login: %v", err)
		}
		if front.authed.Load() == 0 {
			t.Fatal("Login: the daemon never sent the credentials: the counters prove nothing")
		}
		front.reset()
		if err := CLILogin(ctx, t.TempDir(), front.host, good, append(cli, plainHTTP)...); err != nil {
			t.Fatalf("CLILogin: %v", err)
		}
		if front.authed.Load() == 0 {
			t.Fatal("CLILogin: the daemon never sent the credentials")
		}
		front.reset()
		if _, err := UpdateServiceAuth(ctx, d.Client, bare, auth, plainHTTP); err != nil {
			t.Fatalf("UpdateServiceAuth: %v", err)
		}
		// Tasks started before the update fail without credentials; wait for the image, which
		// only a task carrying the credentials can pull.
		updated := time.Now()
		for deadline := time.Now().Add(2 * time.Minute); !d.HasImage(t, image); {
			if time.Now().After(deadline) {
				_, taskErr := taskVerdict(t, d, bare, image, updated)
				t.Fatalf("after UpdateServiceAuth the image is still not pulled; task error %q", taskErr)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if front.authed.Load() == 0 {
			t.Fatal("UpdateServiceAuth: the pull carried no credentials")
		}
	})
}
