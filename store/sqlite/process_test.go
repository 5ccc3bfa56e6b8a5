package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/sqlite"
	"github.com/regcred/regcred/store/storetest"
)

const childEnv = "REGCRED_SQLITE_CHILD" // "PATH,NAME": run as a writer process

// writer is the child process: 100 creates of its own records, and 100 read-modify-write
// updates of one shared record, retried on ErrConflict.
func writer(path, name string) error {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer s.Close()
	for i := range 100 {
		if err := s.Put(ctx, storetest.Record(fmt.Sprintf("%s-%03d", name, i), 1)); err != nil {
			return err
		}
		for {
			cur, err := s.Get(ctx, "shared")
			if err != nil {
				return err
			}
			cur.Version++
			err = s.Put(ctx, cur)
			if errors.Is(err, registry.ErrConflict) {
				continue
			}
			if err != nil {
				return err
			}
			break
		}
	}
	return nil
}

// Two processes (the test binary run twice) write one database at once: 2 x 100 creates
// keep 200 records, and 2 x 100 updates of one record lose none (its version is 201).
func TestTwoProcessesWriteOneStore(t *testing.T) {
	if v := os.Getenv(childEnv); v != "" {
		var path, name string
		for i := len(v) - 1; i >= 0; i-- {
			if v[i] == ',' {
				path, name = v[:i], v[i+1:]
				break
			}
		}
		if err := writer(path, name); err != nil {
			fmt.Fprintln(os.Stderr, "writer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "regcred.db")
	s := open(t, path)
	ctx := context.Background()
	if err := s.Put(ctx, storetest.Record("shared", 1)); err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	for _, name := range []string{"p1", "p2"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTwoProcessesWriteOneStore$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"="+path+","+name)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	done := make(chan error, len(cmds))
	for _, c := range cmds {
		go func() { done <- c.Wait() }()
	}
	for range cmds {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("a writer process failed: %v", err)
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("the writer processes did not finish in 2 minutes")
		}
	}
	all, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 201 {
		t.Fatalf("%d records; want 200 written by the two processes and the shared one", len(all))
	}
	shared, err := s.Get(ctx, "shared")
	if err != nil || shared.Version != 201 {
		t.Fatalf("shared record at version %d, %v; want 201 (no update lost)", shared.Version, err)
	}
}
