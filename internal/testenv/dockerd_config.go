package testenv

import (
	"os"
	"testing"
)

// StartDockerWithConfig starts a dockerd of t's own (not the shared one) that reads
// daemonJSON (--config-file), for tests of daemon.json settings such as registry-mirrors.
// It stops when the test ends. The file must not repeat a setting the harness gives as a
// flag (hosts, data-root, exec-root, pidfile, storage-driver, iptables, ip6tables, bridge,
// log-level): dockerd refuses to start then.
func StartDockerWithConfig(t testing.TB, daemonJSON string) *Docker {
	t.Helper()
	dockerd := "/usr/sbin/dockerd"
	if _, err := os.Stat(dockerd); err != nil {
		dockerd = LookPath(t, "dockerd", "docker.io")
	}
	cli := dockerCLI()
	if cli == "" {
		Unavailable(t, "the docker CLI", "apt-get install docker.io")
	}
	d, err := startDockerd(dockerd, cli, "--config-file", daemonJSON)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := d.stop(); err != nil {
			t.Errorf("testenv: stopping dockerd: %v", err)
		}
	})
	return d
}
