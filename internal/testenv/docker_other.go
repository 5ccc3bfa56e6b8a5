//go:build !linux

package testenv

import "os/exec"

// dockerdDiesWithParent: only Linux ties a child's life to its parent; DockerMain and
// t.Cleanup stop the daemon elsewhere.
func dockerdDiesWithParent(*exec.Cmd) {}

// unmountUnder: dockerd mounts nothing outside Linux.
func unmountUnder(string) {}
