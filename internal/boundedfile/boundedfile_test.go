package boundedfile

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// withTimeout fails the test instead of hanging CI when f blocks (the FIFO regression).
func withTimeout(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("blocked for 10 s: reading a named or piped input must never wait for a writer")
	}
}

func TestReadFileRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	link := filepath.Join(dir, "link-to-fifo")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"fifo", fifo, "is a named pipe (FIFO), not a regular file"},
		{"symlink to a fifo", link, "is a named pipe (FIFO), not a regular file"},
		{"dev zero", "/dev/zero", "is a character device, not a regular file"},
		{"dev null", "/dev/null", "is a character device, not a regular file"},
		{"directory", dir, "is a directory, not a regular file"},
		{"socket", sock, "is a socket, not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withTimeout(t, func() {
				b, err := ReadFile(tc.path, 1<<20)
				if !errors.Is(err, ErrNotRegular) || b != nil {
					t.Fatalf("ReadFile(%s) = %d bytes, %v; want ErrNotRegular", tc.path, len(b), err)
				}
				if want := tc.path + " " + tc.want; err.Error() != want {
					t.Errorf("error %q, want %q", err, want)
				}
			})
		})
	}
}

func TestReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	exact := filepath.Join(dir, "exact")
	os.WriteFile(exact, bytes.Repeat([]byte("a"), 1024), 0o600)
	big := filepath.Join(dir, "big")
	f, _ := os.Create(big)
	f.Truncate(50 << 20) // a sparse 50 MB file
	f.Close()
	link := filepath.Join(dir, "link")
	os.Symlink(exact, link)

	if b, err := ReadFile(exact, 1024); err != nil || len(b) != 1024 {
		t.Errorf("file of exactly the limit: %d bytes, %v", len(b), err)
	}
	if b, err := ReadFile(link, 1024); err != nil || len(b) != 1024 {
		t.Errorf("symlink to a regular file: %d bytes, %v", len(b), err)
	}
	_, err := ReadFile(exact, 1023)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Limit != 1023 || err.Error() != exact+" is too large (at most 1023 bytes)" {
		t.Errorf("one byte over: %v", err)
	}
	_, err = ReadFile(big, 4<<20)
	if !errors.Is(err, ErrTooLarge) || err.Error() != big+" is too large (at most 4 MiB)" {
		t.Errorf("50 MB file: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
}

// A file whose declared size is wrong (/proc) is read by content, not by size.
func TestReadFileIgnoresDeclaredSize(t *testing.T) {
	b, err := ReadFile("/proc/self/status", 1<<20)
	if err != nil || !bytes.Contains(b, []byte("Pid:")) {
		t.Fatalf("/proc/self/status: %d bytes, %v", len(b), err)
	}
	if _, err := ReadFile("/proc/self/status", 16); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("/proc/self/status with limit 16: %v", err)
	}
}

// countingReader is an endless input that counts what was read from it.
type countingReader struct{ n int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	c.n += int64(len(p))
	return len(p), nil
}

func TestReadAllStopsAtTheLimit(t *testing.T) {
	src := &countingReader{}
	_, err := ReadAll(src, 1<<20)
	if !errors.Is(err, ErrTooLarge) || err.Error() != "input is too large (at most 1 MiB)" {
		t.Fatalf("endless input: %v", err)
	}
	if src.n > 1<<20+1 {
		t.Errorf("read %d bytes of an endless input with a 1 MiB limit; want at most limit+1", src.n)
	}
	if strings.Contains(err.Error(), "xxx") {
		t.Error("the error quotes the input")
	}
	b, err := ReadAll(io.LimitReader(&countingReader{}, 100), 100)
	if err != nil || len(b) != 100 {
		t.Errorf("input of exactly the limit: %d bytes, %v", len(b), err)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{1 << 20: "1 MiB", 4 << 20: "4 MiB", 512 << 10: "512 KiB", 1000: "1000 bytes"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

func BenchmarkReadFile(b *testing.B) {
	p := filepath.Join(b.TempDir(), "f")
	os.WriteFile(p, bytes.Repeat([]byte("registries:\n"), 10000), 0o600)
	b.Run("boundedfile.ReadFile", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ReadFile(p, 4<<20); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("os.ReadFile", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := os.ReadFile(p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestNewReader(t *testing.T) {
	src := &countingReader{}
	b, err := io.ReadAll(NewReader(src, 1000))
	if !errors.Is(err, ErrTooLarge) || len(b) != 1000 {
		t.Fatalf("endless input: %d bytes, %v", len(b), err)
	}
	if src.n > 1001 {
		t.Errorf("read %d bytes of the source with a limit of 1000", src.n)
	}
	b, err = io.ReadAll(NewReader(strings.NewReader("abc"), 3))
	if err != nil || string(b) != "abc" {
		t.Errorf("input at the limit: %q, %v", b, err)
	}
}
