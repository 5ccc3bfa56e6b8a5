//go:build !linux

package testenv

import "os/exec"

// dieWithParent: only Linux can tie a child's life to its parent; elsewhere t.Cleanup
// stops the registry.
func dieWithParent(*exec.Cmd) {}
