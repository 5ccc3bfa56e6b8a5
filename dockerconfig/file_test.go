package dockerconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/regcred/regcred/registry"
)

func TestWriteFileModes(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "new", "dir", "config.json")
	cfg := New()
	cfg.Set("ghcr.io", registry.Credentials{Username: "u", Password: "p"})
	if err := cfg.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", st.Mode().Perm())
	}
	for _, d := range []string{filepath.Join(root, "new"), filepath.Join(root, "new", "dir")} {
		st, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o700 {
			t.Errorf("dir %s mode %v, want 0700", d, st.Mode().Perm())
		}
	}
	want, _ := cfg.Marshal()
	if got, _ := os.ReadFile(p); !bytes.Equal(got, want) {
		t.Errorf("file holds %s, want %s", got, want)
	}

	// An existing world-readable file is replaced by a 0600 one.
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cfg.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("rewritten file mode %v, want 0600", st.Mode().Perm())
	}
	assertOnlyFiles(t, filepath.Dir(p), "config.json")
}

func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Fatalf("%s holds %v, want only %v (a temporary file was left behind?)", dir, got, names)
	}
	for i := range names {
		if got[i] != names[i] {
			t.Fatalf("%s holds %v, want %v", dir, got, names)
		}
	}
}

func TestWriteFileFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.json")
	good := New()
	good.Set("ghcr.io", registry.Credentials{Username: "u", Password: "p"})
	if err := good.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(p)
	bad := &Config{Auths: map[string]AuthEntry{"ghcr.io": {Username: "a:b", Password: "p"}}}
	if err := bad.WriteFile(p); err == nil {
		t.Fatal("WriteFile of an unencodable config succeeded")
	}
	if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
		t.Errorf("a failed write changed the file: %s", after)
	}
	// A directory in the way of the rename: the write fails and leaves no temporary file.
	blocked := filepath.Join(dir, "blocked")
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := good.WriteFile(blocked); err == nil {
		t.Fatal("WriteFile over a non-empty directory succeeded")
	}
	assertOnlyFiles(t, dir, "blocked", "config.json")
}

func TestWriteFileFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.json")
	link := filepath.Join(dir, "config.json")
	if err := os.WriteFile(target, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	cfg := New()
	cfg.Set("quay.io", registry.Credentials{Username: "u", Password: "p"})
	if err := cfg.WriteFile(link); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced: %v %v", fi, err)
	}
	got, err := Load(target)
	if err != nil || got.Auths["quay.io"].Username != "u" {
		t.Errorf("target not written: %v %v", got, err)
	}
}

// TestWriteFileAtomic: a reader that loops over the file while it is rewritten always
// decodes a whole config, one of the two being written, never a part of one.
func TestWriteFileAtomic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.json")
	a, b := New(), New()
	for i := range 200 { // large enough that a non-atomic write would be seen half done
		a.Set("a"+string(rune('a'+i%26))+string(rune('a'+i/26))+".example", registry.Credentials{Username: "ua", Password: "pa"})
		b.Set("b"+string(rune('a'+i%26))+string(rune('a'+i/26))+".example", registry.Credentials{Username: "ub", Password: "pb"})
	}
	wa, _ := a.Marshal()
	wb, _ := b.Marshal()
	if err := a.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var reads, bad atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			data, err := os.ReadFile(p)
			reads.Add(1)
			if err != nil || !(bytes.Equal(data, wa) || bytes.Equal(data, wb)) {
				bad.Add(1)
			}
		}
	}()
	for i := range 100 {
		c := a
		if i%2 == 1 {
			c = b
		}
		if err := c.WriteFile(p); err != nil {
			t.Error(err)
			break
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d of %d reads saw a partial or missing file", bad.Load(), reads.Load())
	}
	if reads.Load() == 0 {
		t.Errorf("the reader never ran")
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", "/etc/docker-cfg")
	if p, err := DefaultPath(); err != nil || p != "/etc/docker-cfg/config.json" {
		t.Errorf("with DOCKER_CONFIG: %q, %v", p, err)
	}
	t.Setenv("DOCKER_CONFIG", "")
	t.Setenv("HOME", "/home/someone")
	if p, err := DefaultPath(); err != nil || p != "/home/someone/.docker/config.json" {
		t.Errorf("with HOME: %q, %v", p, err)
	}
	t.Setenv("HOME", "")
	if p, err := DefaultPath(); err == nil {
		t.Errorf("with neither: %q, want an error", p)
	}
}
