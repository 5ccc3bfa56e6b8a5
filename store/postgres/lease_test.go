package postgres_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/postgres"
	"github.com/regcred/regcred/store/storetest"
)

const holderEnv = "REGCRED_PG_LEASE_HOLDER" // the DSN: run as a lease holder process

// holder is the child process: it takes the lease (TTL 2 s), says "acquired FENCE", and
// for every "write ID" line on stdin tries a fenced create and says "ok" or the error.
func holder(dsn string) error {
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		return err
	}
	l, err := s.Acquire(ctx, "controller", postgres.WithLeaseTTL(2*time.Second), postgres.WithLeaseRetry(100*time.Millisecond))
	if err != nil {
		return err
	}
	fmt.Printf("acquired %d\n", l.Fence())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		id, ok := strings.CutPrefix(in.Text(), "write ")
		if !ok {
			continue
		}
		err := s.Fenced(l).Put(ctx, storetest.Record(id, 1))
		switch {
		case err == nil:
			fmt.Println("ok")
		case errors.Is(err, postgres.ErrFenced):
			fmt.Println("fenced")
		default:
			fmt.Println("error", err)
		}
	}
	return nil
}

// A holder process that hangs (SIGSTOP) loses the lease TTL after its last heartbeat; the
// contender takes over within TTL + its retry interval, with a larger fencing number, and
// the old holder, resumed, cannot write.
func TestLeaseTakeoverWhenTheHolderHangs(t *testing.T) {
	_, _, dsn := newDB(t)
	s := open(t, dsn)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holderEnv+"="+dsn)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGCONT)
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	}()
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	read := func() string {
		t.Helper()
		select {
		case l := <-lines:
			return l
		case <-time.After(30 * time.Second):
			t.Fatal("the holder process said nothing in 30s")
		}
		return ""
	}
	var oldFence int64
	if _, err := fmt.Sscanf(read(), "acquired %d", &oldFence); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(stdin, "write before")
	if got := read(); got != "ok" {
		t.Fatalf("the holder's fenced write: %s", got)
	}

	ctx := context.Background()
	if _, err := s.TryAcquire(ctx, "controller"); !errors.Is(err, postgres.ErrLeaseHeld) {
		t.Fatalf("TryAcquire while held: %v; want ErrLeaseHeld", err)
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	hung := time.Now()
	l, err := s.Acquire(ctx, "controller", postgres.WithLeaseTTL(2*time.Second), postgres.WithLeaseRetry(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	takeover := time.Since(hung)
	t.Logf("takeover %v after the holder hung (TTL 2s, retry 100ms)", takeover.Round(10*time.Millisecond))
	if takeover > 2*time.Second+time.Second {
		t.Errorf("takeover took %v; want within TTL + retry (2.1s) plus scheduling", takeover)
	}
	if l.Fence() <= oldFence {
		t.Fatalf("new fence %d, old %d; want larger", l.Fence(), oldFence)
	}
	if err := s.Fenced(l).Put(ctx, storetest.Record("leader", 1)); err != nil {
		t.Fatalf("the new leader's fenced write: %v", err)
	}
	// The old holder wakes up and tries to write: refused.
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(stdin, "write after")
	if got := read(); got != "fenced" {
		t.Fatalf("the deposed holder's write: %s; want fenced", got)
	}
	if _, err := s.Get(ctx, "after"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("the deposed holder's record exists: %v", err)
	}
}

// A holder whose process dies frees the lease at once (its socket closes); a holder whose
// session is ended sees Lost, and its fenced writes fail after a takeover.
func TestLeaseLostAndFenced(t *testing.T) {
	pg, db, dsn := newDB(t)
	a, b := open(t, dsn), open(t, dsn)
	ctx := context.Background()
	la, err := a.Acquire(ctx, "ctl", postgres.WithLeaseTTL(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !la.Valid() {
		t.Fatal("a fresh lease is not Valid")
	}
	if _, err := pg.SQL(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'regcred-lease' AND datname = current_database()"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-la.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("Lost not closed 5s after the session was ended (TTL 2s: heartbeat every 500ms)")
	}
	if la.Valid() {
		t.Fatal("a lost lease is Valid")
	}
	start := time.Now()
	lb, err := b.TryAcquire(ctx, "ctl")
	if err != nil {
		t.Fatalf("TryAcquire after the holder's session ended: %v", err)
	}
	defer lb.Release(ctx)
	t.Logf("free %v after the session ended", time.Since(start))
	err = a.Fenced(la).Put(ctx, storetest.Record("x", 1))
	if !errors.Is(err, postgres.ErrFenced) {
		t.Fatalf("deposed write: %v; want ErrFenced", err)
	}
	if err := b.Fenced(lb).Put(ctx, storetest.Record("x", 1)); err != nil {
		t.Fatal(err)
	}
	// Release frees it for the next one, with a larger fence.
	if err := lb.Release(ctx); err != nil {
		t.Fatal(err)
	}
	lc, err := a.TryAcquire(ctx, "ctl")
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Release(ctx)
	if lc.Fence() != lb.Fence()+1 || lb.Fence() != la.Fence()+1 {
		t.Fatalf("fences %d, %d, %d; want consecutive", la.Fence(), lb.Fence(), lc.Fence())
	}
}

// The fenced view is a Store like the others while its lease is current.
func TestFencedConformance(t *testing.T) {
	dsns := map[registry.Store]string{}
	storetest.Run(t, func(t *testing.T) registry.Store {
		_, _, dsn := newDB(t)
		s := open(t, dsn)
		l, err := s.Acquire(context.Background(), "conformance")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Release(context.Background()) })
		f := s.Fenced(l)
		dsns[f] = dsn
		return f
	}, storetest.WithReopen(func(t *testing.T, s registry.Store) registry.Store {
		return open(t, dsns[s])
	}))
}
