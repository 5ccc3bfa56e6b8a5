package atomicfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/regcred/regcred/internal/atomicfile"
)

// A config.json that is a symlink stays one: the write goes to the file the link points
// to, also when that file does not exist yet (docker's configfile.Save does the same).
func TestWriteThroughSymlink(t *testing.T) {
	tests := []struct {
		name string
		// setup makes link (and what it points to) under dir and returns where the data must land.
		setup func(t *testing.T, dir, link string) string
	}{
		{"link to an existing file", func(t *testing.T, dir, link string) string {
			target := filepath.Join(dir, "dotfiles", "config.json")
			mustMkdir(t, filepath.Dir(target))
			mustWrite(t, target, "old")
			mustSymlink(t, target, link)
			return target
		}},
		{"dangling link, absolute", func(t *testing.T, dir, link string) string {
			target := filepath.Join(dir, "dotfiles", "config.json")
			mustMkdir(t, filepath.Dir(target))
			mustSymlink(t, target, link)
			return target
		}},
		{"dangling link, relative", func(t *testing.T, dir, link string) string {
			mustMkdir(t, filepath.Join(dir, "dotfiles"))
			mustSymlink(t, filepath.Join("..", "dotfiles", "docker.json"), link)
			return filepath.Join(dir, "dotfiles", "docker.json")
		}},
		{"dangling link into a missing directory", func(t *testing.T, dir, link string) string {
			target := filepath.Join(dir, "not", "yet", "config.json")
			mustSymlink(t, target, link)
			return target
		}},
		{"chain of links ending dangling", func(t *testing.T, dir, link string) string {
			target := filepath.Join(dir, "final.json")
			middle := filepath.Join(dir, "middle.json")
			mustSymlink(t, target, middle)
			mustSymlink(t, middle, link)
			return target
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			link := filepath.Join(dir, ".docker", "config.json")
			mustMkdir(t, filepath.Dir(link))
			want := tt.setup(t, dir, link)
			if err := atomicfile.Write(link, []byte(`{"auths":{}}`)); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Lstat(link)
			if err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("the symlink was replaced: %v, mode %v", err, fi.Mode())
			}
			got, err := os.ReadFile(want)
			if err != nil || string(got) != `{"auths":{}}` {
				t.Fatalf("target %s: %q, %v", want, got, err)
			}
			if fi, _ := os.Stat(want); fi.Mode().Perm() != 0o600 {
				t.Fatalf("target mode %o, want 0600", fi.Mode().Perm())
			}
			if got, _ := os.ReadFile(link); string(got) != `{"auths":{}}` {
				t.Fatalf("reading through the link: %q", got)
			}
		})
	}
}

func TestWriteSymlinkLoop(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	mustSymlink(t, b, a)
	mustSymlink(t, a, b)
	err := atomicfile.Write(a, []byte("x"))
	if !errors.Is(err, syscall.ELOOP) {
		t.Fatalf("err = %v, want ELOOP", err)
	}
	for _, p := range []string{a, b} {
		if fi, err := os.Lstat(p); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("%s changed: %v", p, err)
		}
	}
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
