//go:build linux

package testenv

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// dockerdDiesWithParent sends dockerd SIGTERM (not SIGKILL) when the test binary dies, so
// it still stops its containerd, and puts it in its own process group.
func dockerdDiesWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
}

// unmountUnder detaches every mount below dir (network namespaces a killed dockerd left).
func unmountUnder(dir string) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], dir+"/") {
			syscall.Unmount(f[1], syscall.MNT_DETACH)
		}
	}
}
