package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/postgres"
	"github.com/regcred/regcred/store/storetest"
)

func TestJournal(t *testing.T) {
	storetest.RunJournal(t, func(t *testing.T) registry.Store {
		_, _, dsn := newDB(t)
		return open(t, dsn)
	})
}

// A leader-only notifier (a webhook, a mail) handles each change once: it reads the change
// log from the last sequence it handled. Two replicas write 1,000 changes (adds and
// password rotations) concurrently; the consumer reads while they write, is restarted
// after about 400 (a new process: a new pool, a new Catalog) and resumes from its
// checkpoint. Every change is handled exactly once: 0 lost, 0 duplicated.
func TestChangesResumeAfterRestart(t *testing.T) {
	const writers, perWriter = 2, 500
	_, _, dsn := newDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cat := catalog.New(open(t, dsn))
			defer cat.Close()
			wctx := catalog.WithPrincipal(ctx, catalog.Principal{User: fmt.Sprintf("writer-%d", w)})
			r, err := cat.Add(wctx, registry.Registry{Name: fmt.Sprintf("r%d", w), Kind: registry.KindCustom,
				Server: fmt.Sprintf("r%d.example.com", w), Fields: map[string]string{"username": "u", "password": "p0"}})
			if err != nil {
				errs <- err
				return
			}
			for i := 1; i < perWriter; i++ {
				form := r.Clone()
				form.Fields["password"] = fmt.Sprintf("p%d", i)
				if r, err = cat.Update(wctx, form); err != nil {
					errs <- err
					return
				}
			}
		}()
	}

	handled := map[string]int{} // "id v<version>" -> times handled
	total := 0
	var checkpoint uint64 // what the consumer persists after each entry
	consume := func(stopAfter int) {
		cat := catalog.New(open(t, dsn)) // a fresh process: its own pool and Catalog
		defer cat.Close()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for total < stopAfter {
			batch, err := cat.Changes(ctx, checkpoint, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range batch {
				if a.Actor == "" || (a.Action == "rotate") != (a.Version > 1) || a.Version > 1 && len(a.Fields) != 1 {
					t.Fatalf("entry %+v: want an actor, add at v1, rotate (fields: password) after", a)
				}
				handled[fmt.Sprintf("%s v%d", a.ID, a.Version)]++
				total++
				checkpoint = a.Seq
				if total == stopAfter {
					return
				}
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				t.Fatalf("after %d changes: %v", total, ctx.Err())
			}
		}
	}
	consume(400) // then the process dies
	restartedAt := checkpoint
	consume(writers * perWriter)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Nothing more arrives after the last change.
	if more, err := catalog.New(open(t, dsn)).Changes(ctx, checkpoint, 0); err != nil || len(more) != 0 {
		t.Fatalf("after the last change: %d more entries, %v", len(more), err)
	}
	dup := 0
	for _, n := range handled {
		if n > 1 {
			dup++
		}
	}
	lost := writers*perWriter - len(handled)
	t.Logf("%d changes by %d replicas; consumer restarted after seq %d; handled %d, lost %d, duplicated %d", writers*perWriter, writers, restartedAt, total, lost, dup)
	if lost != 0 || dup != 0 {
		t.Fatalf("lost %d, duplicated %d; want 0 and 0", lost, dup)
	}
}

// The fenced view keeps the change log too, and a deposed leader's audited write lands
// neither its record nor its entry.
func TestFencedJournal(t *testing.T) {
	storetest.RunJournal(t, func(t *testing.T) registry.Store {
		_, _, dsn := newDB(t)
		s := open(t, dsn)
		l, err := s.Acquire(context.Background(), "journal")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Release(context.Background()) })
		return s.Fenced(l)
	})
	ctx := context.Background()
	_, _, dsn := newDB(t)
	a, b := open(t, dsn), open(t, dsn)
	la, err := a.Acquire(ctx, "ctl")
	if err != nil {
		t.Fatal(err)
	}
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	lb, err := b.Acquire(ctx, "ctl") // the new leader: a larger fence
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Release(ctx)
	entry := registry.Audit{Time: time.Now(), Action: "add", ID: "x", Name: "x", Version: 1}
	if _, err := a.Fenced(la).PutAudited(ctx, storetest.Record("x", 1), entry); !errors.Is(err, postgres.ErrFenced) {
		t.Fatalf("a deposed leader's audited write = %v, want ErrFenced", err)
	}
	if log, err := b.Changes(ctx, 0, 0); err != nil || len(log) != 0 {
		t.Fatalf("after a fenced write: %d entries, %v; want none", len(log), err)
	}
	if _, err := b.Fenced(lb).PutAudited(ctx, storetest.Record("x", 1), entry); err != nil {
		t.Fatal(err)
	}
}
