package testenv

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

func TestMain(m *testing.M) { DockerMain(m) }

func TestStartDockerShared(t *testing.T) {
	d := StartDocker(t)
	if again := StartDocker(t); again != d {
		t.Fatal("StartDocker started a second daemon; want the shared one")
	}
	if !strings.HasPrefix(d.Host, "unix://") {
		t.Fatalf("Host = %q, want a unix:// socket", d.Host)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := d.Client.Info(ctx)
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if info.Driver != "vfs" {
		t.Errorf("storage driver = %q, want vfs", info.Driver)
	}
	if !strings.HasPrefix(info.DockerRootDir, os.TempDir()) {
		t.Errorf("data root = %q, want a private directory under %s", info.DockerRootDir, os.TempDir())
	}
	// The CLI talks to the same daemon, not to a system one.
	out, err := d.CLI(ctx, t.TempDir(), nil, "info", "--format", "{{.DockerRootDir}}")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out); got != info.DockerRootDir {
		t.Errorf("CLI sees data root %q, API sees %q", got, info.DockerRootDir)
	}
}

func TestDockerEnvIsolated(t *testing.T) {
	d := StartDocker(t)
	t.Setenv("DOCKER_CONTEXT", "elsewhere")
	t.Setenv("DOCKER_TLS_VERIFY", "1")
	cfg := t.TempDir()
	var host, config int
	for _, kv := range d.Env(cfg) {
		switch {
		case kv == "DOCKER_HOST="+d.Host:
			host++
		case kv == "DOCKER_CONFIG="+cfg:
			config++
		case strings.HasPrefix(kv, "DOCKER_"):
			t.Errorf("Env leaks %q from the test's environment", kv)
		}
	}
	if host != 1 || config != 1 {
		t.Errorf("Env has DOCKER_HOST %d times and DOCKER_CONFIG %d times, want once each", host, config)
	}
}

// TestDockerPullsFromProtectedRegistry proves the daemon, the CLI and the registry harness
// fit together: a login with --password-stdin, a pull, and the refusal without credentials.
func TestDockerPullsFromProtectedRegistry(t *testing.T) {
	d := StartDocker(t)
	reg := StartRegistry(t, WithBasicAuth("alice", "s3cret-pw"))
	ref := reg.Push(t, "testenv/docker-pull:v1")
	t.Cleanup(func() { d.RemoveImage(t, ref) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	anon := t.TempDir()
	if _, err := d.CLI(ctx, anon, nil, "pull", ref); err == nil {
		t.Fatal("pull without credentials succeeded; want it refused")
	}
	if d.HasImage(t, ref) {
		t.Fatal("image present after a refused pull")
	}

	cfg := t.TempDir()
	if _, err := d.CLI(ctx, cfg, strings.NewReader("s3cret-pw"), "login", "--username", "alice", "--password-stdin", reg.Host); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(cfg, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Auths map[string]struct{ Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if got, want := file.Auths[reg.Host].Auth, base64.StdEncoding.EncodeToString([]byte("alice:s3cret-pw")); got != want {
		t.Fatalf("the CLI stored auth %q for %s, want %q", got, reg.Host, want)
	}
	if _, err := d.CLI(ctx, cfg, nil, "pull", ref); err != nil {
		t.Fatal(err)
	}
	if !d.HasImage(t, ref) {
		t.Fatal("image missing after a successful pull")
	}
	d.RemoveImage(t, ref)
	if d.HasImage(t, ref) {
		t.Fatal("image present after RemoveImage")
	}
}

func TestDockerSwarmInit(t *testing.T) {
	d := StartDocker(t)
	d.SwarmInit(t)
	d.SwarmInit(t) // idempotent
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := d.Client.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Swarm.LocalNodeState != swarm.LocalNodeStateActive || !info.Swarm.ControlAvailable {
		t.Fatalf("swarm state %q, manager %v; want an active manager", info.Swarm.LocalNodeState, info.Swarm.ControlAvailable)
	}
	if !strings.HasPrefix(info.Swarm.NodeAddr, "127.0.0.1") {
		t.Errorf("node address %q, want loopback", info.Swarm.NodeAddr)
	}
}
