package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

// Docker is the test binary's dockerd (Debian's /usr/sbin/dockerd, 20.10, API 1.41): its own
// socket, data root and exec root under a temporary directory, the vfs storage driver, no
// iptables and no default bridge, no TLS. One daemon serves every test of a test binary
// (it takes seconds to start) when TestMain hands control to DockerMain, which stops it and
// removes its directory when the tests are done.
//
// Tests share the daemon's image store and swarm: use repository names unique to the test
// (RegistryServer.Push of a fresh name) and remove what you create (RemoveImage,
// Cleanup of services).
type Docker struct {
	// Host is the daemon's address for DOCKER_HOST: unix:///tmp/.../docker.sock.
	Host string
	// Client is an Engine API client for Host with API version negotiation.
	Client *client.Client
	// CLIPath is the docker CLI (/usr/local/bin/docker, else /usr/bin/docker).
	CLIPath string

	dir    string
	cmd    *exec.Cmd
	exited chan error
	log    *syncBuffer

	swarmOnce sync.Once
	swarmErr  error
}

var dockerShared = &shared[*Docker]{name: "dockerd", stop: (*Docker).stop}

// DockerMain runs the tests of a package that uses StartDocker and then stops the shared
// daemon. Call it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.DockerMain(m) }
func DockerMain(m *testing.M) { dockerShared.main(m) }

// StartDocker returns the test binary's dockerd, starting it on first use, when the
// package's TestMain hands over to DockerMain; without DockerMain each call starts a daemon
// of its own that stops when the test ends (slower: seconds per test). A missing dockerd
// or docker CLI is Unavailable (a skip on a laptop, a failure in CI); a daemon that does not
// come up fails the test with its log.
func StartDocker(t testing.TB) *Docker {
	t.Helper()
	dockerd := "/usr/sbin/dockerd" // Debian's, not always on a user's PATH
	if _, err := os.Stat(dockerd); err != nil {
		dockerd = LookPath(t, "dockerd", "docker.io")
	}
	cli := dockerCLI()
	if cli == "" {
		Unavailable(t, "the docker CLI", "apt-get install docker.io")
	}
	return dockerShared.get(t, func() (*Docker, error) { return startDockerd(dockerd, cli) })
}

func dockerCLI() string {
	for _, p := range []string{"/usr/local/bin/docker", "/usr/bin/docker"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath("docker"); err == nil {
		return p
	}
	return ""
}

func startDockerd(bin, cli string, extraArgs ...string) (*Docker, error) {
	dir, err := os.MkdirTemp("", "regcred-dockerd-") // short: unix socket paths are limited to 108 bytes
	if err != nil {
		return nil, err
	}
	d := &Docker{
		Host:    "unix://" + filepath.Join(dir, "docker.sock"),
		CLIPath: cli,
		dir:     dir,
		exited:  make(chan error, 1),
		log:     &syncBuffer{},
	}
	d.cmd = exec.Command(bin,
		"-H", d.Host,
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "dockerd.pid"),
		"--storage-driver=vfs", "--iptables=false", "--ip6tables=false", "--bridge=none",
		"--log-level=warn",
	)
	d.cmd.Args = append(d.cmd.Args, extraArgs...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	dockerdDiesWithParent(d.cmd)
	if err := d.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start dockerd: %w", err)
	}
	go func() { d.exited <- d.cmd.Wait() }()

	d.Client, err = client.NewClientWithOpts(client.WithHost(d.Host), client.WithAPIVersionNegotiation())
	if err != nil {
		d.stop()
		return nil, fmt.Errorf("docker client: %w", err)
	}
	if err := d.waitReady(60 * time.Second); err != nil {
		log := d.log.String()
		d.stop()
		return nil, fmt.Errorf("dockerd did not become ready: %v\nlog:\n%s", err, log)
	}
	return d, nil
}

// waitReady pings the socket until the daemon answers.
func (d *Docker) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last error
	for delay := 20 * time.Millisecond; time.Now().Before(deadline); delay = min(delay*2, 250*time.Millisecond) {
		select {
		case err := <-d.exited:
			d.exited <- err
			return fmt.Errorf("dockerd exited: %v", err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, last = d.Client.Ping(ctx)
		cancel()
		if last == nil {
			d.Client.NegotiateAPIVersion(context.Background())
			return nil
		}
		time.Sleep(delay)
	}
	return fmt.Errorf("no answer to /_ping within %s: %v", limit, last)
}

// stop leaves the swarm, stops the daemon (SIGTERM, then SIGKILL after 30s, then its
// containerd) and removes its directory.
func (d *Docker) stop() error {
	if d.Client != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if info, err := d.Client.Info(ctx); err == nil && info.Swarm.LocalNodeState != swarm.LocalNodeStateInactive {
			d.Client.SwarmLeave(ctx, true)
		}
		cancel()
		d.Client.Close()
	}
	var errs []error
	if stopProcess(d.cmd.Process, d.exited, syscall.SIGTERM, 30*time.Second) {
		errs = append(errs, errors.New("dockerd ignored SIGTERM for 30s; killed"))
		if b, err := os.ReadFile(filepath.Join(d.dir, "exec", "containerd", "containerd.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	unmountUnder(d.dir) // netns bind mounts may remain under the exec root after a kill
	if err := os.RemoveAll(d.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Logs returns what dockerd has logged (warnings and errors) so far.
func (d *Docker) Logs() string { return d.log.String() }

// Env is the environment for a docker client process: the test's environment without any
// DOCKER_* variable, plus DOCKER_HOST=d.Host and DOCKER_CONFIG=configDir. An empty
// configDir is refused: a test must never read or write the real ~/.docker.
func (d *Docker) Env(configDir string) []string {
	if configDir == "" {
		panic("testenv: Docker.Env needs a DOCKER_CONFIG directory (use t.TempDir())")
	}
	env := make([]string, 0, len(os.Environ())+2)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DOCKER_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "DOCKER_HOST="+d.Host, "DOCKER_CONFIG="+configDir)
}

// Command returns the docker CLI with args, set up for this daemon and configDir (see Env).
// Append to cmd.Env to add variables (a PATH with a credential helper, say).
func (d *Docker) Command(ctx context.Context, configDir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, d.CLIPath, args...)
	cmd.Env = d.Env(configDir)
	return cmd
}

// CLI runs the docker CLI with args against this daemon with configDir as DOCKER_CONFIG,
// stdin as its standard input (may be nil), and returns its standard output; stderr is
// returned inside the error when the command fails.
func (d *Docker) CLI(ctx context.Context, configDir string, stdin io.Reader, args ...string) (string, error) {
	cmd := d.Command(ctx, configDir, args...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// SwarmInit makes the daemon a single-node swarm manager (once per test binary), listening
// and advertising on 127.0.0.1 with free ports so concurrent test binaries do not collide.
func (d *Docker) SwarmInit(t testing.TB) {
	t.Helper()
	d.swarmOnce.Do(func() {
		port, err := freePort()
		if err != nil {
			d.swarmErr = err
			return
		}
		dataPort, err := freeUDPPort()
		if err != nil {
			d.swarmErr = err
			return
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, d.swarmErr = d.Client.SwarmInit(ctx, swarm.InitRequest{
			ListenAddr: addr, AdvertiseAddr: addr, DataPathPort: uint32(dataPort),
		})
	})
	if d.swarmErr != nil {
		t.Fatalf("testenv: docker swarm init: %v\ndockerd log:\n%s", d.swarmErr, d.Logs())
	}
}

// HasImage reports whether the daemon's image store holds ref.
func (d *Docker) HasImage(t testing.TB, ref string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := d.Client.ImageInspect(ctx, ref)
	switch {
	case err == nil:
		return true
	case cerrdefs.IsNotFound(err):
		return false
	}
	t.Fatalf("testenv: inspect image %s: %v", ref, err)
	return false
}

// RemoveImage removes ref (forced, with its untagged parents) if present.
func (d *Docker) RemoveImage(t testing.TB, ref string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := d.Client.ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		t.Fatalf("testenv: remove image %s: %v", ref, err)
	}
}

func freeUDPPort() (int, error) {
	for range 10 {
		p, err := freePort()
		if err != nil {
			return 0, err
		}
		if conn, err := listenUDP(p); err == nil {
			conn.Close()
			return p, nil
		}
	}
	return 0, errors.New("no free UDP port")
}

func listenUDP(port int) (*net.UDPConn, error) {
	return net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
}
