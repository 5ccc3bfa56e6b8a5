package nodeconfig

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// node is a node's file tree under a root directory. Every read and write of a node file
// goes through it, and none leaves the root: a symlink is followed only while it stays
// inside (an absolute link target is the root's own path only when the root is "/"), a
// link that leads out is ErrOutsideRoot, and the operations themselves go through
// os.Root, which refuses to leave the directory even if the tree changes underneath.
type node struct {
	dir  string   // as given
	abs  bool     // the root is "/": absolute link targets are inside it
	root *os.Root // nil when dir does not exist (reads find nothing)
}

// openNode opens the tree under dir. A missing dir is an empty tree; create makes it
// (0755) so that Apply can write into it.
func openNode(dir string, create bool) (*node, error) {
	n := &node{dir: dir}
	if real, err := filepath.EvalSymlinks(dir); err == nil && real == "/" {
		n.abs = true
	}
	r, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err = os.MkdirAll(dir, 0o755); err == nil {
			r, err = os.OpenRoot(dir)
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return n, nil
	case err != nil:
		return nil, fmt.Errorf("%w: root %q: %v", ErrInvalid, dir, err)
	}
	n.root = r
	return n, nil
}

func (n *node) close() {
	if n.root != nil {
		n.root.Close()
	}
}

// maxLinks bounds a chain of symlinks (Linux gives up after 40 as well).
const maxLinks = 40

// resolve turns the node path p ("/etc/docker/daemon.json") into a path relative to the
// root with no symlink in it, following links that stay inside the root. What does not
// exist yet is kept as it is (a dangling link inside the root resolves to its target, to
// be created). A link that leads out is ErrOutsideRoot.
func (n *node) resolve(p string) (string, error) {
	todo := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
	var done []string
	for links := 0; len(todo) > 0; {
		part := todo[0]
		todo = todo[1:]
		if part == "" || part == "." {
			continue
		}
		cur := path.Join(append(done, part)...)
		fi, err := n.root.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			done = append(done, part) // the rest does not exist either: nothing to follow
			done = append(done, todo...)
			break
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, part)
			continue
		}
		if links++; links > maxLinks {
			return "", &fs.PathError{Op: "resolve", Path: p, Err: syscall.ELOOP}
		}
		target, err := n.root.Readlink(cur)
		if err != nil {
			return "", err
		}
		next := path.Join(append(append([]string{}, done...), target)...)
		switch {
		case path.IsAbs(target) && n.abs:
			next = target
		case path.IsAbs(target), next == ".." || strings.HasPrefix(next, "../"):
			return "", fmt.Errorf("%w: %s is a symlink to %q, outside the root %s: regcred reads and writes only inside --root (replace the link by the file or directory, or run with --root / on the node itself)", ErrOutsideRoot, "/"+cur, target, n.dir)
		}
		todo = append(strings.Split(strings.Trim(path.Clean("/"+next), "/"), "/"), todo...)
		done = done[:0]
	}
	if len(done) == 0 {
		return ".", nil
	}
	return path.Join(done...), nil
}

// readFile reads the node file p; a missing file is nil, nil.
func (n *node) readFile(p string) ([]byte, error) {
	b, _, err := n.read(p)
	return b, err
}

// read reads the node file p and its mode; a missing file is nil, 0, nil.
func (n *node) read(p string) ([]byte, fs.FileMode, error) {
	if n.root == nil {
		return nil, 0, nil
	}
	rel, err := n.resolve(p)
	if err != nil {
		return nil, 0, err
	}
	f, err := n.root.Open(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%w: %s is not a regular file", ErrInvalid, p)
	}
	b := make([]byte, fi.Size())
	if _, err := f.ReadAt(b, 0); err != nil && fi.Size() > 0 {
		return nil, 0, err
	}
	return b, fi.Mode().Perm(), nil
}

// write replaces the node file p with data and mode, atomically: a temporary file in the
// same directory, fsync, rename, fsync of the directory. A link to p inside the root is
// written through and stays a link. Missing directories are created 0755 (what a node's
// /etc, /etc/containerd, ... are), whatever the umask and the file's mode.
func (n *node) write(p string, data []byte, mode fs.FileMode) (err error) {
	rel, err := n.resolve(p)
	if err != nil {
		return err
	}
	dir := path.Dir(rel)
	if err := n.mkdirs(dir); err != nil {
		return err
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := path.Join(dir, "."+path.Base(rel)+".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := n.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			n.root.Remove(tmp)
		}
	}()
	if err := f.Chmod(mode.Perm()); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := n.root.Rename(tmp, rel); err != nil {
		return err
	}
	if d, err := n.root.Open(dir); err == nil { // make the rename durable; best effort
		d.Sync()
		d.Close()
	}
	return nil
}

// mkdirs creates the missing directories of rel, each 0755.
func (n *node) mkdirs(rel string) error {
	if rel == "." {
		return nil
	}
	if err := n.mkdirs(path.Dir(rel)); err != nil {
		return err
	}
	fi, err := n.root.Stat(rel)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%w: /%s is not a directory", ErrInvalid, rel)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := n.root.Mkdir(rel, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return n.root.Chmod(rel, 0o755) // the umask may have taken bits away
}
