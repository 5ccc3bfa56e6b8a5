//go:build unix

package main

import (
	"context"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// oNoFollow makes opening a cache entry that is a symlink fail.
const oNoFollow = syscall.O_NOFOLLOW

func ownedByMe(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}

// lockFile takes an exclusive advisory lock on path (made 0600), waiting while ctx allows
// and at most 10 s; without the lock the caller goes on unlocked (a second fetch is only
// wasteful). The returned func releases it.
func lockFile(ctx context.Context, path string) func() {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|oNoFollow, 0o600)
	if err != nil {
		return func() {}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }
		}
		if err != syscall.EWOULDBLOCK || ctx.Err() != nil || time.Now().After(deadline) {
			f.Close()
			return func() {}
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}
