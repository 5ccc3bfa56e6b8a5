package swarm

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	dockerregistry "github.com/docker/docker/api/types/registry"
	dockerswarm "github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/registry"
)

func TestServerAddress(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"docker.io", registry.DockerHubServer},
		{"index.docker.io", registry.DockerHubServer},
		{"https://index.docker.io/v1/", registry.DockerHubServer},
		{"registry-1.docker.io", registry.DockerHubServer},
		{"GHCR.io", "ghcr.io"},
		{"https://registry.example.com:5000/", "registry.example.com:5000"},
		{"127.0.0.1:5000", "127.0.0.1:5000"},
		// Not a Docker Hub name: docker/cli's normalizeIndexName folds index.docker.io
		// only, and "docker login registry.hub.docker.com" stores that key.
		{"registry.hub.docker.com", "registry.hub.docker.com"},
		{"https://registry.example.com/v2/", "registry.example.com"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := ServerAddress(tc.in); got != tc.want {
				t.Errorf("ServerAddress(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestEncodeAuthGolden pins the wire format: base64url (with padding) of the engine's JSON
// auth config, the same bytes the docker CLI sends in X-Registry-Auth.
func TestEncodeAuthGolden(t *testing.T) {
	cases := []struct {
		name   string
		creds  registry.Credentials
		server string
	}{
		{"basic", registry.Credentials{Username: "alice", Password: "p>?s/w+rd"}, "registry.example.com:5000"},
		{"dockerhub", registry.Credentials{Username: "bob", Password: "dckr_pat_x"}, "docker.io"},
		{"identitytoken", registry.Credentials{Username: "00000000-0000-0000-0000-000000000000", IdentityToken: "refresh"}, "myacr.azurecr.io"},
		{"registrytoken", registry.Credentials{RegistryToken: "bearer-token"}, "ghcr.io"},
		{"anonymous", registry.Credentials{}, "ghcr.io"},
	}
	var got strings.Builder
	for _, tc := range cases {
		enc, err := EncodeAuth(tc.creds, tc.server)
		if err != nil {
			t.Fatal(err)
		}
		// The engine's own encoder must agree byte for byte.
		want, err := dockerregistry.EncodeAuthConfig(AuthConfig(tc.creds, tc.server))
		if err != nil {
			t.Fatal(err)
		}
		if enc != want {
			t.Errorf("%s: EncodeAuth = %q, engine encodes %q", tc.name, enc, want)
		}
		// And the engine's decoder must read back what we meant.
		ac, err := dockerregistry.DecodeAuthConfig(enc)
		if err != nil {
			t.Fatalf("%s: engine cannot decode: %v", tc.name, err)
		}
		if diff := cmp.Diff(AuthConfig(tc.creds, tc.server), *ac); diff != "" {
			t.Errorf("%s: engine decodes (-want +got):\n%s", tc.name, diff)
		}
		c, server, err := DecodeAuth(enc)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.creds, c); diff != "" || server != ServerAddress(tc.server) {
			t.Errorf("%s: DecodeAuth round trip (-want +got):\n%s server %q", tc.name, diff, server)
		}
		raw, _ := base64.URLEncoding.DecodeString(enc)
		fmt.Fprintf(&got, "%s\t%s\t%s\n", tc.name, enc, raw)
	}
	golden := filepath.Join("testdata", "encode_auth.golden")
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		os.WriteFile(golden, []byte(got.String()), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (UPDATE_GOLDEN=1 writes it)", err)
	}
	if diff := cmp.Diff(string(want), got.String()); diff != "" {
		t.Errorf("encodings differ from %s (-want +got):\n%s", golden, diff)
	}
}

func TestDecodeAuthRejectsGarbage(t *testing.T) {
	for _, in := range []string{"!!!", base64.URLEncoding.EncodeToString([]byte("not json"))} {
		if _, _, err := DecodeAuth(in); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("DecodeAuth(%q) = %v, want ErrInvalid", in, err)
		}
	}
}

// fakeEngine speaks the client interfaces with canned answers.
type fakeEngine struct {
	loginErr    error
	loginStatus string
	logins      int
	gotAuth     dockerregistry.AuthConfig
	creates     []dockerswarm.ServiceCreateOptions
	warnings    []string
	service     dockerswarm.Service
	updateErrs  []error
	updates     []dockerswarm.ServiceUpdateOptions
	updatedSpec []dockerswarm.ServiceSpec
	versions    []uint64
}

func (f *fakeEngine) RegistryLogin(_ context.Context, ac dockerregistry.AuthConfig) (dockerregistry.AuthenticateOKBody, error) {
	f.logins++
	f.gotAuth = ac
	if f.loginErr != nil {
		return dockerregistry.AuthenticateOKBody{}, f.loginErr
	}
	if f.loginStatus != "" {
		return dockerregistry.AuthenticateOKBody{Status: f.loginStatus}, nil
	}
	return dockerregistry.AuthenticateOKBody{Status: "Login Succeeded"}, nil
}

func (f *fakeEngine) ServiceCreate(_ context.Context, _ dockerswarm.ServiceSpec, o dockerswarm.ServiceCreateOptions) (dockerswarm.ServiceCreateResponse, error) {
	f.creates = append(f.creates, o)
	return dockerswarm.ServiceCreateResponse{ID: "svc1", Warnings: f.warnings}, nil
}

func (f *fakeEngine) ServiceInspectWithRaw(context.Context, string, dockerswarm.ServiceInspectOptions) (dockerswarm.Service, []byte, error) {
	return f.service, nil, nil
}

func (f *fakeEngine) ServiceUpdate(_ context.Context, _ string, v dockerswarm.Version, spec dockerswarm.ServiceSpec, o dockerswarm.ServiceUpdateOptions) (dockerswarm.ServiceUpdateResponse, error) {
	f.updates = append(f.updates, o)
	f.updatedSpec = append(f.updatedSpec, spec)
	f.versions = append(f.versions, v.Index)
	if len(f.updateErrs) > 0 {
		err := f.updateErrs[0]
		f.updateErrs = f.updateErrs[1:]
		f.service.Version.Index++ // someone else wrote
		return dockerswarm.ServiceUpdateResponse{}, err
	}
	return dockerswarm.ServiceUpdateResponse{Warnings: f.warnings}, nil
}

func TestLoginClassifiesDaemonErrors(t *testing.T) {
	creds := registry.Credentials{Username: "alice", Password: "hunter22"}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"401", errdefs.ErrUnauthenticated.WithMessage("login attempt to http://r/v2/ failed with status: 401 Unauthorized"), registry.ErrUnauthorized},
		{"403", errdefs.ErrPermissionDenied.WithMessage("denied"), registry.ErrForbidden},
		{"500", errors.New(`Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused`), registry.ErrUnavailable},
		{"echoed secret", errdefs.ErrUnauthenticated.WithMessage("bad password hunter22"), registry.ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeEngine{loginErr: tc.err}
			_, err := Login(context.Background(), f, "r.example", creds, WithTLS(registry.TLS{Mode: registry.TLSInsecure})) // classification only: no handshake
			if !errors.Is(err, tc.want) {
				t.Fatalf("Login error = %v, want %v", err, tc.want)
			}
			var ee *EngineError
			if !errors.As(err, &ee) || ee.Verdict == "" {
				t.Fatalf("error %v carries no daemon verdict", err)
			}
			if strings.Contains(err.Error(), "hunter22") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
	f := &fakeEngine{}
	res, err := Login(context.Background(), f, "docker.io", creds)
	if err != nil || res.Status != "Login Succeeded" {
		t.Fatalf("Login = %+v, %v", res, err)
	}
	if f.gotAuth.ServerAddress != registry.DockerHubServer || f.gotAuth.Password != "hunter22" {
		t.Errorf("the daemon got %+v", f.gotAuth)
	}
}

func TestUpdateServiceAuthRetriesOnConflict(t *testing.T) {
	spec := dockerswarm.ServiceSpec{Annotations: dockerswarm.Annotations{Name: "web", Labels: map[string]string{"a": "b"}},
		TaskTemplate: dockerswarm.TaskSpec{ContainerSpec: &dockerswarm.ContainerSpec{Image: "r.example/web:1", Args: []string{"x"}}}}
	f := &fakeEngine{
		service:    dockerswarm.Service{ID: "svc1", Meta: dockerswarm.Meta{Version: dockerswarm.Version{Index: 7}}, Spec: spec},
		updateErrs: []error{errdefs.ErrUnknown.WithMessage("rpc error: code = Unknown desc = update out of sequence")},
	}
	enc, _ := EncodeAuth(registry.Credentials{Username: "u", Password: "new"}, "r.example")
	if _, err := UpdateServiceAuth(context.Background(), f, "web", enc); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint64{7, 8}, f.versions); diff != "" {
		t.Errorf("versions written (-want +got):\n%s", diff)
	}
	for i, s := range f.updatedSpec {
		if diff := cmp.Diff(spec, s); diff != "" {
			t.Errorf("update %d changed the spec (-want +got):\n%s", i, diff)
		}
		if f.updates[i].EncodedRegistryAuth != enc || f.updates[i].QueryRegistry {
			t.Errorf("update %d options %+v", i, f.updates[i])
		}
	}
	if _, err := UpdateServiceAuth(context.Background(), f, "web", ""); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("empty auth: %v, want ErrInvalid", err)
	}
}

func TestCreateServiceNeedsImage(t *testing.T) {
	_, _, err := CreateService(context.Background(), &fakeEngine{}, dockerswarm.ServiceSpec{}, "")
	var fe *registry.FieldError
	if !errors.As(err, &fe) || fe.Field != "image" {
		t.Fatalf("err = %v, want a FieldError for image", err)
	}
}

// TestCLILoginKeepsPasswordOffArgv runs CLILogin against a stand-in docker that records its
// argv and stdin: the password must arrive on stdin and nowhere in argv or the environment.
func TestCLILoginKeepsPasswordOffArgv(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "docker")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$REC/argv\"\nenv > \"$REC/env\"\ncat > \"$REC/stdin\"\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cfgDir := t.TempDir()
	const secret = "s3cret-Pa55"
	server := closedPort(t) // nothing answers there: the TLS check leaves it to the daemon
	err := CLILogin(context.Background(), cfgDir, server, registry.Credentials{Username: "alice", Password: secret},
		WithDockerBinary(fake), WithEnv("REC="+dir))
	if err != nil {
		t.Fatal(err)
	}
	argv, _ := os.ReadFile(filepath.Join(dir, "argv"))
	env, _ := os.ReadFile(filepath.Join(dir, "env"))
	stdin, _ := os.ReadFile(filepath.Join(dir, "stdin"))
	if diff := cmp.Diff("login\n--username\nalice\n--password-stdin\n"+server+"\n", string(argv)); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}
	if strings.Contains(string(argv), secret) || strings.Contains(string(env), secret) {
		t.Error("the password is in argv or the environment")
	}
	if string(stdin) != secret {
		t.Errorf("stdin = %q, want the password", stdin)
	}
	if !strings.Contains(string(env), "DOCKER_CONFIG="+cfgDir+"\n") {
		t.Error("DOCKER_CONFIG is not the given directory")
	}
}

func TestCLILoginRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, dir, server string
		creds             registry.Credentials
		field             string
	}{
		{"no dir", "", "r", registry.Credentials{Username: "u", Password: "p"}, "dockerConfig"},
		{"token only", "d", "r", registry.Credentials{RegistryToken: "t"}, "password"},
		{"dash user", "d", "r", registry.Credentials{Username: "-p", Password: "p"}, "username"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CLILogin(context.Background(), tc.dir, tc.server, tc.creds, WithDockerBinary("/nonexistent"))
			var fe *registry.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err = %v, want a FieldError for %s", err, tc.field)
			}
		})
	}
}

func newClient(host string) (*client.Client, error) {
	return client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation())
}

// engineError reads the verdict from the structure of the daemon's answer, never from the
// digits of a host, a port or a digest.
func TestEngineErrorClassifiesFromStructure(t *testing.T) {
	const h = "127.0.0.1:40103"
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"refused connection on a 401 port", errdefs.ErrUnknown.WithMessage(`Get "http://` + h + `/v2/": dial tcp ` + h + `: connect: connection refused`), registry.ErrUnavailable},
		{"service image on a 403 port not found", errdefs.ErrUnknown.WithMessage("manifest for 10.0.4.3:40301/app@sha256:4034014034014034014034014034014034014034014034014034014034014034 not found: manifest unknown: manifest unknown"), registry.ErrNotFound},
		{"20.10 login refusal", errdefs.ErrUnknown.WithMessage("login attempt to http://" + h + "/v2/ failed with status: 401 Unauthorized"), registry.ErrUnauthorized},
		{"registry's UNAUTHORIZED", errdefs.ErrUnknown.WithMessage(`Get "http://` + h + `/v2/": unauthorized: incorrect username or password`), registry.ErrUnauthorized},
		{"registry's DENIED", errdefs.ErrUnknown.WithMessage("denied: requested access to the resource is denied"), registry.ErrForbidden},
		{"daemon 401", errdefs.ErrUnauthenticated.WithMessage("x"), registry.ErrUnauthorized},
		{"update out of sequence", errdefs.ErrUnknown.WithMessage("rpc error: code = Unknown desc = update out of sequence"), registry.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := engineError("op", "subject", tc.err, "pw-40103")
			if !errors.Is(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
			for _, s := range []error{registry.ErrUnauthorized, registry.ErrForbidden, registry.ErrNotFound, registry.ErrUnavailable, registry.ErrConflict} {
				if s != tc.want && errors.Is(err, s) {
					t.Fatalf("%v is also %v", err, s)
				}
			}
		})
	}
}
