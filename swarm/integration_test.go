package swarm

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	dockerswarm "github.com/docker/docker/api/types/swarm"
	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
)

func TestMain(m *testing.M) { testenv.DockerMain(m) }

const (
	testUser = "deploy"
	testPass = "Rotat3-me-please"
)

// plainHTTP is the TLS option of a record saved for the test registries, which speak plain
// http on loopback: only the insecure mode may hand them credentials.
var plainHTTP = WithTLS(registry.TLS{Mode: registry.TLSInsecure})

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestEngineLogin(t *testing.T) {
	d := testenv.StartDocker(t)
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth(testUser, testPass))
	for _, tc := range []struct {
		name   string
		server string
		creds  registry.Credentials
		want   error
	}{
		{"good credentials", reg.Host, registry.Credentials{Username: testUser, Password: testPass}, nil},
		{"wrong password", reg.Host, registry.Credentials{Username: testUser, Password: "wrong-password"}, registry.ErrUnauthorized},
		{"unknown user", reg.Host, registry.Credentials{Username: "mallory", Password: testPass}, registry.ErrUnauthorized},
		{"nothing listening", closedPort(t), registry.Credentials{Username: testUser, Password: testPass}, registry.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := Login(ctx, d.Client, tc.server, tc.creds, plainHTTP)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Login: %v", err)
				}
				if res.Status != "Login Succeeded" {
					t.Errorf("status %q, want the daemon's \"Login Succeeded\"", res.Status)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Login error = %v, want %v", err, tc.want)
			}
			if errors.Is(tc.want, registry.ErrUnauthorized) && errors.Is(err, registry.ErrUnavailable) {
				t.Fatal("a refusal must not read as an outage")
			}
			var ee *EngineError
			if !errors.As(err, &ee) || ee.Verdict == "" {
				t.Fatalf("no daemon verdict in %v", err)
			}
			if strings.Contains(err.Error(), tc.creds.Password.Reveal()) {
				t.Fatalf("error leaks the password: %v", err)
			}
			t.Logf("daemon verdict: %v", err)
		})
	}
}

// TestEngineLoginDaemonDown: a daemon that cannot be reached is ErrUnavailable, with a hint.
func TestEngineLoginDaemonDown(t *testing.T) {
	c, err := newClient("unix://" + filepath.Join(t.TempDir(), "none.sock"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Login(context.Background(), c, closedPort(t), registry.Credentials{Username: "u", Password: "p"})
	if !errors.Is(err, registry.ErrUnavailable) || !strings.Contains(err.Error(), "DOCKER_HOST") {
		t.Fatalf("err = %v, want ErrUnavailable naming DOCKER_HOST", err)
	}
}

// taskVerdict waits until the service's tasks show the outcome of the image pull: the image
// in the daemon's store (pulled) or a task error (refused). A task may then fail to start
// its process (the test image has no command); only the pull is checked.
// Only tasks created at or after since count.
func taskVerdict(t *testing.T, d *testenv.Docker, serviceID, image string, since time.Time) (pulled bool, taskErr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		if d.HasImage(t, image) {
			return true, ""
		}
		tasks, err := d.Client.TaskList(ctx, dockerswarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", serviceID))})
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			if task.Status.Err != "" && !task.CreatedAt.Before(since) {
				if d.HasImage(t, image) {
					return true, task.Status.Err
				}
				return false, task.Status.Err
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no verdict on service %s within 2 minutes; tasks: %+v", serviceID, tasks)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func createService(t *testing.T, d *testenv.Docker, name, image, auth string, opts ...Option) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	spec := dockerswarm.ServiceSpec{
		Annotations: dockerswarm.Annotations{Name: name, Labels: map[string]string{"regcred.test": t.Name()}},
		TaskTemplate: dockerswarm.TaskSpec{
			ContainerSpec: &dockerswarm.ContainerSpec{Image: image, Args: []string{"serve"}, Env: []string{"MODE=test"}},
			RestartPolicy: &dockerswarm.RestartPolicy{Condition: dockerswarm.RestartPolicyConditionAny},
		},
	}
	id, _, err := CreateService(ctx, d.Client, spec, auth, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Client.ServiceRemove(context.Background(), id)
		// Task containers go away asynchronously; the image removal is forced.
		d.RemoveImage(t, image)
	})
	return id
}

func TestServiceWithRegistryAuthPulls(t *testing.T) {
	d := testenv.StartDocker(t)
	d.SwarmInit(t)
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth(testUser, testPass))

	t.Run("with our registry auth the task's image is pulled", func(t *testing.T) {
		image := reg.Push(t, "swarm/with-auth:v1")
		auth, err := EncodeAuth(registry.Credentials{Username: testUser, Password: testPass}, reg.Host)
		if err != nil {
			t.Fatal(err)
		}
		id := createService(t, d, "regcred-with-auth", image, auth, plainHTTP)
		pulled, taskErr := taskVerdict(t, d, id, image, time.Time{})
		if !pulled {
			t.Fatalf("image not pulled; task error %q", taskErr)
		}
	})
	t.Run("without registry auth the pull is refused", func(t *testing.T) {
		image := reg.Push(t, "swarm/without-auth:v1")
		id := createService(t, d, "regcred-without-auth", image, "")
		pulled, taskErr := taskVerdict(t, d, id, image, time.Time{})
		if pulled {
			t.Fatal("image pulled without credentials")
		}
		if !strings.Contains(taskErr, "No such image") {
			t.Fatalf("task error %q, want the daemon's \"No such image\"", taskErr)
		}
	})
}

// TestUpdateServiceAuthRotation: a service created with a stale password cannot pull; after
// UpdateServiceAuth with the current one its tasks pull, and nothing in the spec changed.
func TestUpdateServiceAuthRotation(t *testing.T) {
	d := testenv.StartDocker(t)
	d.SwarmInit(t)
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth(testUser, testPass))
	image := reg.Push(t, "swarm/rotation:v1")
	stale, _ := EncodeAuth(registry.Credentials{Username: testUser, Password: "last-quarters-password"}, reg.Host)
	id := createService(t, d, "regcred-rotation", image, stale, plainHTTP)
	if pulled, taskErr := taskVerdict(t, d, id, image, time.Time{}); pulled || !strings.Contains(taskErr, "No such image") {
		t.Fatalf("stale credentials: pulled=%v task error %q; want the pull refused", pulled, taskErr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	before, _, err := d.Client.ServiceInspectWithRaw(ctx, id, dockerswarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := EncodeAuth(registry.Credentials{Username: testUser, Password: testPass}, reg.Host)
	updated := time.Now()
	if _, err := UpdateServiceAuth(ctx, d.Client, "regcred-rotation", fresh, plainHTTP); err != nil {
		t.Fatal(err)
	}
	after, _, err := d.Client.ServiceInspectWithRaw(ctx, id, dockerswarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before.Spec, after.Spec); diff != "" {
		t.Errorf("rotation changed the spec (-before +after):\n%s", diff)
	}
	if after.Version.Index <= before.Version.Index {
		t.Errorf("version %d -> %d: the update was not written", before.Version.Index, after.Version.Index)
	}
	if after.PreviousSpec == nil {
		t.Error("no previous spec recorded: the daemon saw no update")
	}
	// Tasks started before the update may still fail with the stale password; wait for the
	// image, which only a task carrying the fresh credentials can pull.
	deadline := time.Now().Add(2 * time.Minute)
	for !d.HasImage(t, image) {
		if time.Now().After(deadline) {
			_, taskErr := taskVerdict(t, d, id, image, updated)
			t.Fatalf("after rotation the image is still not pulled; task error %q", taskErr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestCLILoginRealDocker logs the real docker CLI in with --password-stdin into a fresh
// DOCKER_CONFIG and pulls with it; a wrong password is ErrUnauthorized.
func TestCLILoginRealDocker(t *testing.T) {
	d := testenv.StartDocker(t)
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth(testUser, testPass))
	image := reg.Push(t, "swarm/cli-login:v1")
	t.Cleanup(func() { d.RemoveImage(t, image) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	cfg := t.TempDir()
	err := CLILogin(ctx, cfg, reg.Host, registry.Credentials{Username: testUser, Password: "wrong-password"},
		WithDockerBinary(d.CLIPath), WithEnv("DOCKER_HOST="+d.Host), plainHTTP)
	if !errors.Is(err, registry.ErrUnauthorized) {
		t.Fatalf("wrong password: %v, want ErrUnauthorized", err)
	}
	if err := CLILogin(ctx, cfg, reg.Host, registry.Credentials{Username: testUser, Password: testPass},
		WithDockerBinary(d.CLIPath), WithEnv("DOCKER_HOST="+d.Host), plainHTTP); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(cfg, "config.json")); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("config.json: %v, mode %v; want it private", err, fi.Mode())
	}
	if _, err := d.CLI(ctx, cfg, nil, "pull", image); err != nil {
		t.Fatalf("pull with the CLI login: %v", err)
	}
}

// TestLoginUnluckyNumbers logs in through the real daemon and the real CLI to a registry on a
// port whose digits hold 401/403, and to such a port with nothing behind it: a refused
// password is ErrUnauthorized, a refused connection ErrUnavailable, whatever the digits.
func TestLoginUnluckyNumbers(t *testing.T) {
	d := testenv.StartDocker(t)
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth(testUser, testPass))
	host := testenv.Forward(t, reg.Host, 40103, 40301, 40401, 54031)
	closed := testenv.FreePortOf(t, 14010, 24013, 40104, 44013) // all hold "401"
	good := registry.Credentials{Username: testUser, Password: testPass}
	bad := registry.Credentials{Username: testUser, Password: "wrong-40140340"}
	tests := []struct {
		name   string
		server string
		creds  registry.Credentials
		want   error
	}{
		{"good credentials", host, good, nil},
		{"wrong password", host, bad, registry.ErrUnauthorized},
		{"nothing listening", closed, good, registry.ErrUnavailable},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	check := func(t *testing.T, err, want error) {
		t.Helper()
		if want == nil {
			if err != nil {
				t.Fatal(err)
			}
			return
		}
		if !errors.Is(err, want) {
			t.Fatalf("%v, want %v", err, want)
		}
		for _, s := range []error{registry.ErrUnauthorized, registry.ErrForbidden, registry.ErrNotFound, registry.ErrUnavailable} {
			if s != want && errors.Is(err, s) {
				t.Fatalf("%v is also %v", err, s)
			}
		}
		t.Logf("verdict: %v", err)
	}
	for _, tc := range tests {
		t.Run("engine "+tc.name, func(t *testing.T) {
			_, err := Login(ctx, d.Client, tc.server, tc.creds, plainHTTP)
			check(t, err, tc.want)
		})
		t.Run("cli "+tc.name, func(t *testing.T) {
			err := CLILogin(ctx, t.TempDir(), tc.server, tc.creds, WithDockerBinary(d.CLIPath), WithEnv("DOCKER_HOST="+d.Host), plainHTTP)
			check(t, err, tc.want)
		})
	}
}
