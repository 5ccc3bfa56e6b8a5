package atomicfile_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/regcred/regcred/internal/atomicfile"
)

func TestWriteModePublicFile(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	p := filepath.Join(dir, "etc", "containers", "certs.d", "r:5000", "ca.crt")
	if err := atomicfile.WriteMode(p, []byte("pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("file mode %v, %v; want 0644", fi.Mode(), err)
	}
	di, _ := os.Stat(filepath.Dir(p))
	if di.Mode().Perm() != 0o755 {
		t.Errorf("new directory mode %o, want 0755 so other users can reach the file", di.Mode().Perm())
	}
	// Write keeps its 0600/0700 contract.
	q := filepath.Join(dir, "secret", "config.json")
	if err := atomicfile.Write(q, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Stat(q)
	di, _ = os.Stat(filepath.Dir(q))
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Errorf("Write: file %o dir %o, want 0600 and 0700", fi.Mode().Perm(), di.Mode().Perm())
	}
	// Replacing a 0600 file with WriteMode 0644 gives 0644.
	if err := atomicfile.WriteMode(q, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(q); fi.Mode().Perm() != 0o644 {
		t.Errorf("rewritten mode %o", fi.Mode().Perm())
	}
}
