package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Containerd is one test's containerd (Debian's containerd 1.6): its own socket, root and
// state directories and config file under a temporary directory, stopped and removed when
// the test ends. Ctr runs Debian's ctr against it.
type Containerd struct {
	Address    string // the daemon's gRPC socket (unix path)
	ConfigFile string // the config.toml it was started with
	CtrPath    string

	dir string
	log *syncBuffer
}

// ContainerdOption configures StartContainerd.
type ContainerdOption func(*containerdConfig)

type containerdConfig struct {
	config []byte
}

// WithContainerdConfig starts containerd with this config.toml. The socket, root and
// state directories are given on the command line and win over the file's.
func WithContainerdConfig(toml []byte) ContainerdOption {
	return func(c *containerdConfig) { c.config = toml }
}

// Ctr returns the path of ctr, or calls Unavailable.
func Ctr(t testing.TB) string {
	t.Helper()
	return LookPath(t, "ctr", "containerd")
}

// StartContainerd starts containerd for t and waits until it answers ctr version. A
// missing containerd or ctr is Unavailable; a daemon that does not come up fails the test
// with its log.
func StartContainerd(t testing.TB, opts ...ContainerdOption) *Containerd {
	t.Helper()
	bin := LookPath(t, "containerd", "containerd")
	ctr := Ctr(t)
	cfg := containerdConfig{config: []byte("version = 2\n")}
	for _, o := range opts {
		o(&cfg)
	}
	dir, err := os.MkdirTemp("", "regcred-ctd-") // short: unix socket paths are limited to 108 bytes
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	c := &Containerd{
		Address:    filepath.Join(dir, "containerd.sock"),
		ConfigFile: filepath.Join(dir, "config.toml"),
		CtrPath:    ctr,
		dir:        dir,
		log:        &syncBuffer{},
	}
	if err := os.WriteFile(c.ConfigFile, cfg.config, 0o600); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	cmd := exec.Command(bin, "--config", c.ConfigFile, "--address", c.Address,
		"--root", filepath.Join(dir, "root"), "--state", filepath.Join(dir, "state"), "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = c.log, c.log
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		t.Fatalf("testenv: start containerd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		stopProcess(cmd.Process, exited, syscall.SIGTERM, 10*time.Second)
		if t.Failed() {
			t.Logf("containerd log:\n%s", c.log.String())
		}
		unmountUnder(dir)
		os.RemoveAll(dir)
	})
	deadline := time.Now().Add(30 * time.Second)
	for delay := 20 * time.Millisecond; ; delay = min(delay*2, 250*time.Millisecond) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("testenv: containerd exited: %v\nlog:\n%s", err, c.log.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.Ctr(ctx, "version")
		cancel()
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: containerd did not answer within 30s: %v\nlog:\n%s", err, c.log.String())
		}
		time.Sleep(delay)
	}
}

// Ctr runs ctr against this daemon (namespace "regcred-test") with args and returns its
// standard output; stderr is in the error when it fails.
func (c *Containerd) Ctr(ctx context.Context, args ...string) (string, error) {
	return c.CtrNamespace(ctx, "regcred-test", args...)
}

// CtrNamespace is Ctr in another containerd namespace ("k8s.io": the CRI plugin's).
func (c *Containerd) CtrNamespace(ctx context.Context, namespace string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, c.CtrPath, append([]string{"--address", c.Address, "--namespace", namespace}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+c.dir) // never the user's ctr settings
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("ctr %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Pull runs ctr images pull --hosts-dir hostsDir ref with the native snapshotter (no
// overlay mounts inside a container) and returns ctr's combined output.
func (c *Containerd) Pull(ctx context.Context, hostsDir, ref string) (string, error) {
	return c.Ctr(ctx, "images", "pull", "--snapshotter", "native", "--hosts-dir", hostsDir, ref)
}

// PluginStatus returns the status ctr plugins ls reports for the plugin with this ID
// ("cri": "ok", "error", "skip"), or an error when it is not listed.
func (c *Containerd) PluginStatus(ctx context.Context, id string) (string, error) {
	out, err := c.Ctr(ctx, "plugins", "ls")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[1] == id {
			return f[len(f)-1], nil
		}
	}
	return "", errors.New("plugin " + id + " is not listed by ctr plugins ls")
}

// Logs returns what containerd has logged so far.
func (c *Containerd) Logs() string { return c.log.String() }
