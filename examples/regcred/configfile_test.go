package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// -f FILE must be a regular file of bounded size: a FIFO hung the CLI forever and
// /dev/zero ate memory until the process was killed. Each case must end within the
// timeout with exit 3 and an error that says what the path is.
func TestConfigFlagRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "registries.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"fifo", fifo, fifo + ": the registries file is a named pipe (FIFO), not a regular file"},
		{"dev zero", "/dev/zero", "/dev/zero: the registries file is a character device, not a regular file"},
		{"directory", dir, dir + ": the registries file is a directory, not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type result struct {
				code        int
				out, errOut string
			}
			done := make(chan result, 1)
			go func() {
				code, out, errOut := runCLI(t, "-f", tc.path, "validate")
				done <- result{code, out, errOut}
			}()
			select {
			case r := <-done:
				if r.code != exitConfig || !strings.Contains(r.errOut, tc.want) {
					t.Fatalf("exit %d stderr %q; want exit %d and %q", r.code, r.errOut, exitConfig, tc.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("regcred -f %s validate still running after 10 s", tc.path)
			}
		})
	}
}

// Every problem of the file is listed, one per line, each naming file, line, entry and field.
func TestConfigFlagListsEveryProblem(t *testing.T) {
	p := filepath.Join(t.TempDir(), "registries.yaml")
	os.WriteFile(p, []byte("- name: hub\n  type: Docker Hub\n  credentials:\n    username: me\n    passwrod: x\n    username: again\n"), 0o600)
	code, _, errOut := runCLI(t, "-f", p, "validate")
	want := []string{
		"regcred validate: the registries file has 3 problems:\n",
		"  " + p + `:6: registry "hub" (entry 1): field credentials.username: is given twice (first on line 4) (keep one)` + "\n",
		"  " + p + `:5: registry "hub" (entry 1): field credentials.passwrod: is not a field of Docker Hub (did you mean "password"?`,
		"  " + p + `:1: registry "hub" (entry 1): field password: is required for Docker Hub`,
	}
	if code != exitConfig {
		t.Errorf("exit %d, want %d", code, exitConfig)
	}
	for _, w := range want {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr\n%s\nlacks\n%s", errOut, w)
		}
	}
}
