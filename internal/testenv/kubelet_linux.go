//go:build linux

package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// kubeletSysctls are the sysctls a kubelet sets at start (setupKernelTunables, and the
// kernel keys limits): the harness puts them back.
var kubeletSysctls = []string{
	"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
	"kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes",
}

// kubeletFixedPaths are the host paths a kubelet writes whatever its --root-dir: the
// device manager's socket directory and the container log symlinks. The harness removes
// the topmost one it created.
var kubeletFixedPaths = [][]string{
	{"/var/lib/kubelet", "/var/lib/kubelet/device-plugins"},
	{"/var/log/containers"},
	{"/var/log/pods"},
}

func kubeletSupported() bool {
	_, err := os.Stat("/proc/sys/vm/overcommit_memory")
	return err == nil && len(cgroupV1Mounts()) > 0
}

// kubeletHost is the host state saved before a kubelet starts.
type kubeletHost struct {
	sysctls map[string][]byte
	created []string // fixed paths that did not exist
}

func saveKubeletHost() *kubeletHost {
	h := &kubeletHost{sysctls: map[string][]byte{}}
	for _, s := range kubeletSysctls {
		if b, err := os.ReadFile("/proc/sys/" + s); err == nil {
			h.sysctls[s] = b
		}
	}
	for _, chain := range kubeletFixedPaths {
		for _, p := range chain {
			if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
				h.created = append(h.created, p)
				break // the topmost missing one goes, with what is below it
			}
		}
	}
	return h
}

// restore writes the saved sysctls back and removes the fixed paths the kubelet created.
func (h *kubeletHost) restore() error {
	var errs []error
	for s, b := range h.sysctls {
		cur, err := os.ReadFile("/proc/sys/" + s)
		if err == nil && string(cur) == string(b) {
			continue
		}
		if err := os.WriteFile("/proc/sys/"+s, b, 0o644); err != nil {
			errs = append(errs, fmt.Errorf("sysctl %s: %w", strings.ReplaceAll(s, "/", "."), err))
		}
	}
	for _, p := range h.created {
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// unmountAll detaches every mount at dir or below it, deepest first (the kubelet
// bind-mounts its root directory onto itself, rshared, and pods' volumes below it).
func unmountAll(dir string) {
	for range 10 {
		b, err := os.ReadFile("/proc/self/mounts")
		if err != nil {
			return
		}
		var targets []string
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 1 && (f[1] == dir || strings.HasPrefix(f[1], dir+"/")) {
				targets = append(targets, f[1])
			}
		}
		if len(targets) == 0 {
			return
		}
		slices.SortFunc(targets, func(a, b string) int { return len(b) - len(a) })
		for _, t := range targets {
			syscall.Unmount(t, syscall.MNT_DETACH)
		}
	}
}

// cgroupV1Mounts returns the mount points of the cgroup v1 hierarchies.
func cgroupV1Mounts() []string { return cgroupMounts("cgroup") }

// cgroupMounts returns the mount points of the given file system types.
func cgroupMounts(types ...string) []string {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 2 && slices.Contains(types, f[2]) {
			out = append(out, f[1])
		}
	}
	return out
}

// makeCgroupRoot creates root (unique to the node) in every cgroup v1 hierarchy: the
// kubelet's cgroupfs driver expects its cgroupRoot to exist in each.
func makeCgroupRoot(root string) error {
	for _, m := range cgroupV1Mounts() {
		d := filepath.Join(m, root)
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", d, err)
		}
	}
	return nil
}

// removeCgroupRoot removes root, and every cgroup below it, deepest first, from every
// cgroup hierarchy, v1 and the hybrid's unified one (runc creates the container's cgroup
// there too). A cgroup cannot be removed while a process is in it: the tasks were killed
// before, and their exit may take a moment, so it tries for up to 10 s.
func removeCgroupRoot(root string) error {
	var dirs []string
	for _, m := range cgroupMounts("cgroup", "cgroup2") {
		dirs = append(dirs, filepath.Join(m, root))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left []error
		for _, d := range dirs {
			var all []string
			filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
				if err == nil && e.IsDir() {
					all = append(all, p)
				}
				return nil
			})
			slices.SortFunc(all, func(a, b string) int { return len(b) - len(a) })
			for _, p := range all {
				if err := syscall.Rmdir(p); err != nil && !errors.Is(err, syscall.ENOENT) {
					left = append(left, fmt.Errorf("rmdir %s: %w", p, err))
				}
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return errors.Join(left...)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// killShims kills the containerd shims serving the containerd at address (their command
// line names it: -address ADDRESS), and waits up to 5 s for them to go.
func killShims(address string) {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var pids []int
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) == 0 || !strings.HasPrefix(filepath.Base(args[0]), "containerd-shim") {
			continue
		}
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-address" && args[i+1] == address {
				if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
					pids = append(pids, pid)
				}
			}
		}
	}
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for time.Now().Before(deadline) {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			if _, after, ok := strings.Cut(string(b), ") "); err != nil || ok && strings.HasPrefix(after, "Z") {
				break // gone, or a zombie for init to reap
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// lockHost takes the host-wide kubelet lock (an abstract unix socket, which leaves nothing
// on disk and goes with the process): the sysctls and fixed paths a kubelet changes are
// the host's, so kubelets of test binaries that run at once (go test ./... runs packages
// in parallel) take turns, each saving and restoring the host as it found it. It waits up
// to limit for the lock.
func lockHost(limit time.Duration) (release func(), err error) {
	deadline := time.Now().Add(limit)
	for {
		l, err := net.Listen("unix", "@regcred-kubelet-host-lock")
		if err == nil {
			return func() { l.Close() }, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			return nil, fmt.Errorf("the host-wide kubelet lock: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
