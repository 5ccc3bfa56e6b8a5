//go:build !linux

package testenv

import "time"

// The kubelet runs on Linux only: StartKubelet reports it Unavailable elsewhere.

func kubeletSupported() bool { return false }

type kubeletHost struct{}

func saveKubeletHost() *kubeletHost          { return &kubeletHost{} }
func (*kubeletHost) restore() error          { return nil }
func unmountAll(string)                      {}
func makeCgroupRoot(string) error            { return nil }
func removeCgroupRoot([]string) error        { return nil }
func killShims(string)                       {}
func lockHost(time.Duration) (func(), error) { return func() {}, nil }
