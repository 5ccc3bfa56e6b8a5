package file_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/file"
)

const childStoreEnv = "REGCRED_TEST_FILESTORE_CHILD" // PATH:PREFIX:N in a child process

// Two processes (this test binary run again) write 100 records each into one FileStore
// at the same time: all 200 are kept. Before the cross-process lock and the re-read under
// it, each process rewrote the file from its own memory and about half were lost.
func TestFileStoreTwoProcesses(t *testing.T) {
	if spec := os.Getenv(childStoreEnv); spec != "" {
		fileStoreChild(t, spec)
		return
	}
	path := filepath.Join(t.TempDir(), "registries.json")
	const n = 100
	// This process watches: every write of the children arrives, in each child's order.
	watched := fixture.OpenFileStore(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	changes, err := watched.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	for _, prefix := range []string{"p1", "p2"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileStoreTwoProcesses$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s:%s:%d", childStoreEnv, path, prefix, n))
		out := &prefixWriter{t: t, prefix: prefix}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %v: %v", cmd.Args, err)
		}
	}
	s, err := file.New(path)
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2*n {
		t.Fatalf("two processes wrote %d records, %d are kept", 2*n, len(all))
	}
	next := map[string]int{}
	for seen := 0; seen < 2*n; seen++ {
		select {
		case c := <-changes:
			if c.Op != registry.ChangePut || c.Version != 1 || len(c.ID) < 3 {
				t.Fatalf("change %d from another process: %+v", seen, c)
			}
			prefix := c.ID[:2]
			if want := fmt.Sprintf("%s-%03d", prefix, next[prefix]); c.ID != want {
				t.Fatalf("change %d is %s, want %s (each process's writes in order)", seen, c.ID, want)
			}
			next[prefix]++
		case <-ctx.Done():
			t.Fatalf("%d of %d changes of other processes arrived", seen, 2*n)
		}
	}
}

func fileStoreChild(t *testing.T, spec string) {
	var path, prefix string
	var n int
	for i := len(spec) - 1; i >= 0; i-- { // PATH may hold ':'; PREFIX and N do not
		if spec[i] == ':' {
			n, _ = strconv.Atoi(spec[i+1:])
			rest := spec[:i]
			j := len(rest) - 1
			for j >= 0 && rest[j] != ':' {
				j--
			}
			path, prefix = rest[:j], rest[j+1:]
			break
		}
	}
	s, err := file.New(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range n {
		if err := s.Put(ctx, fixture.StoreRecord(fmt.Sprintf("%s-%03d", prefix, i), 1)); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
}

type prefixWriter struct {
	t      *testing.T
	prefix string
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s: %s", w.prefix, p)
	return len(p), nil
}

// A crash between creating the temporary file and renaming it leaves a 0600 file with
// every secret beside the store; the next open removes it (and only it).
func TestFileStoreRemovesCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "registries.json")
	leftover := filepath.Join(dir, ".registries.json.tmp-1234567")
	other := filepath.Join(dir, ".other.json.tmp-1234567")
	for _, f := range []string{leftover, other} {
		if err := os.WriteFile(f, []byte(`{"registries":[{"fields":{"password":"secret"}}]}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := file.New(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Fatalf("the crash leftover is still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("a file of another store was removed: %v", err)
	}
}

// A file replaced from outside (a restore, a hand edit without the change log) gives the
// watchers a ChangeResync, and reads serve the new content.
func TestFileStoreExternalEditResyncs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registries.json")
	s := fixture.OpenFileStore(t, path)
	if err := s.Put(ctx, fixture.StoreRecord("a", 1)); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := s.Watch(wctx)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := registry.MarshalStored(fixture.StoreRecord("b", 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"registries": [`+string(raw)+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-ch:
		if c.Op != registry.ChangeResync {
			t.Fatalf("after an outside edit: %+v, want a resync", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no change after an outside edit")
	}
	all, err := s.List(ctx)
	if err != nil || len(all) != 1 || all[0].ID != "b" {
		t.Fatalf("List after the outside edit = %v, %v", all, err)
	}
	// The next write goes on from there, with the log.
	if err := s.Put(ctx, fixture.StoreRecord("c", 1)); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case c := <-ch:
			if c.Op == registry.ChangeResync {
				continue // WriteFile is not atomic: the poll may have seen it empty first
			}
			if c != (registry.Change{Op: registry.ChangePut, ID: "c", Version: 1}) {
				t.Fatalf("after the next write: %+v", c)
			}
			return
		case <-time.After(10 * time.Second):
			t.Fatal("no change for the next write")
		}
	}
}
