package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces path with data, mode 0600. A missing parent directory is created with
// mode 0700. When path is a symlink, the file it points to is replaced and the link kept
// (as docker does for config.json).
func Write(path string, data []byte) error { return WriteMode(path, data, 0o600) }

// WriteMode is Write with another mode, for files without secrets that other users' tools
// must read (a CA certificate, a registries.conf for rootless podman). A missing parent
// directory gets the mode's read and search bits for the same users (0644 -> 0755).
func WriteMode(path string, data []byte, mode os.FileMode) (err error) {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
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
