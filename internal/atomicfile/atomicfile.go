package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Write replaces path with data, mode 0600. A missing parent directory is created with
// mode 0700. When path is a symlink, the file it points to is written and the link kept,
// also when the link dangles (its target does not exist yet): as docker does for
// config.json, so a config.json linked into a dotfiles repository stays linked.
func Write(path string, data []byte) error { return WriteMode(path, data, 0o600) }

// WriteMode is Write with another mode, for files without secrets that other users' tools
// must read (a CA certificate, a registries.conf for rootless podman). A missing parent
// directory gets the mode's read and search bits for the same users (0644 -> 0755).
func WriteMode(path string, data []byte, mode os.FileMode) (err error) {
	path, err = resolve(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700|mode&0o044|(mode&0o044)>>2); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(mode.Perm()); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("fsync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil { // make the rename durable; best effort
		d.Sync()
		d.Close()
	}
	return nil
}

// maxLinks bounds a chain of symlinks (Linux gives up after 40 as well).
const maxLinks = 40

// resolve follows path while it is a symlink and returns the file the chain ends at, which
// need not exist (a dangling link is written through, not replaced). Links in the parent
// directories are left to the kernel.
func resolve(path string) (string, error) {
	for range maxLinks {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		target, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return "", &fs.PathError{Op: "write", Path: path, Err: fmt.Errorf("more than %d symlinks in a row (a loop?): %w", maxLinks, syscall.ELOOP)}
}
