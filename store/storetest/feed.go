package storetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/regcred/regcred/registry"
)

func (s *suite) watcher(t *testing.T, st registry.Store) registry.Watcher {
	w, ok := st.(registry.Watcher)
	if !ok {
		t.Fatalf("%T does not implement registry.Watcher (declare Without(Watch) if it is meant to lack it)", st)
	}
	return w
}

// watch subscribes until the test ends.
func watch(t *testing.T, w registry.Watcher) <-chan registry.Change {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := w.Watch(ctx)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	return ch
}

// expect reads exactly want from ch, in order.
func (s *suite) expect(t *testing.T, what string, ch <-chan registry.Change, want ...registry.Change) {
	t.Helper()
	timeout := time.NewTimer(s.cfg.feedTimeout)
	defer timeout.Stop()
	for i, w := range want {
		select {
		case got, open := <-ch:
			if !open {
				t.Fatalf("%s: the feed closed after %d of %d changes", what, i, len(want))
			}
			if got != w {
				t.Fatalf("%s: change %d is %+v, want %+v (every change, in commit order)", what, i, got, w)
			}
		case <-timeout.C:
			t.Fatalf("%s: change %d (%+v) did not arrive within %v", what, i, w, s.cfg.feedTimeout)
		}
	}
}

// quiet checks that nothing arrives for a while.
func quiet(t *testing.T, what string, ch <-chan registry.Change, d time.Duration) {
	t.Helper()
	select {
	case got := <-ch:
		t.Fatalf("%s: unexpected change %+v", what, got)
	case <-time.After(d):
	}
}

func put(id string, v int64) registry.Change {
	return registry.Change{Op: registry.ChangePut, ID: id, Version: v}
}

func del(id string, v int64) registry.Change {
	return registry.Change{Op: registry.ChangeDelete, ID: id, Version: v}
}

// script writes a fixed sequence through st and returns the changes it commits; failed
// writes in between must publish nothing.
func script(t *testing.T, st registry.Store) []registry.Change {
	t.Helper()
	ctx := ctxT(t)
	mustPut(t, st, Record("a", 1))
	mustPut(t, st, Record("a", 2))
	if err := st.Put(ctx, Record("a", 2)); !errors.Is(err, registry.ErrConflict) { // publishes nothing
		t.Fatalf("stale put = %v", err)
	}
	mustPut(t, st, Record("b", 1))
	if err := st.Delete(ctx, "a", 1); !errors.Is(err, registry.ErrConflict) { // publishes nothing
		t.Fatalf("stale delete = %v", err)
	}
	if err := st.Delete(ctx, "a", 0); err != nil {
		t.Fatal(err)
	}
	mustPut(t, st, Record("a", 1))
	mustPut(t, st, Record("b", 2))
	return []registry.Change{put("a", 1), put("a", 2), put("b", 1), del("a", 2), put("a", 1), put("b", 2)}
}

func (s *suite) testFeed(t *testing.T) {
	st := s.open(t)
	w := s.watcher(t, st)
	ch1, ch2 := watch(t, w), watch(t, w) // independent subscriptions
	want := script(t, st)
	s.expect(t, "first watcher", ch1, want...)
	s.expect(t, "second watcher", ch2, want...)
	if hs, ok := st.(registry.HealthStore); ok {
		// Health writes are not changes.
		if err := hs.UpdateHealth(ctxT(t), "a", func(h *registry.Health) {
			h.Test = &registry.TestHealth{Verdict: registry.VerdictOK, At: time.Now()}
		}); err != nil {
			t.Fatal(err)
		}
		mustPut(t, st, Record("a", 2))
		s.expect(t, "after a health write", ch1, put("a", 2))
	}
}

func (s *suite) testFeedOtherHandle(t *testing.T) {
	st := s.open(t)
	w := s.watcher(t, st)
	ch := watch(t, w)
	other := s.cfg.reopen(t, st)
	want := script(t, other)
	s.expect(t, "a watcher of another handle", ch, want...)
	// And the other way round, on a fresh subscription of the other handle.
	if ow, ok := other.(registry.Watcher); ok {
		och := watch(t, ow)
		mustPut(t, st, Record("c", 1))
		s.expect(t, "a watcher on the second handle", och, put("c", 1))
	}
}

func (s *suite) testFeedNoReplay(t *testing.T) {
	st := s.open(t)
	w := s.watcher(t, st)
	mustPut(t, st, Record("before", 1))
	if s.cfg.reopen != nil {
		mustPut(t, s.cfg.reopen(t, st), Record("before-other", 1))
	}
	ch := watch(t, w)
	mustPut(t, st, Record("after", 1))
	s.expect(t, "the first change after Watch", ch, put("after", 1))
}

// testFeedSlowConsumer lets a subscription fall behind: writers must not block, and what
// the subscriber reads is the committed changes in order, where any gap is preceded by a
// ChangeResync; after it, the feed goes on.
func (s *suite) testFeedSlowConsumer(t *testing.T) {
	st := s.open(t)
	w := s.watcher(t, st)
	ch := watch(t, w)
	const n = 300
	var want []registry.Change
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx := ctxT(t)
		for i := range n {
			id := "slow-" + strconv.Itoa(i%7)
			cur, err := st.Get(ctx, id)
			v := cur.Version + 1
			if errors.Is(err, registry.ErrNotFound) {
				v = 1
			}
			if err := st.Put(ctx, Record(id, v)); err != nil {
				t.Errorf("put %d: %v", i, err)
				return
			}
			want = append(want, put(id, v))
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("writers blocked on a watcher that does not read")
	}
	if t.Failed() {
		return
	}
	mustPut(t, st, Record("last", 1))
	want = append(want, put("last", 1))
	var got []registry.Change
	timeout := time.After(s.cfg.feedTimeout)
	for len(got) == 0 || got[len(got)-1] != put("last", 1) {
		select {
		case c := <-ch:
			got = append(got, c)
		case <-timeout:
			t.Fatalf("the last change did not arrive after %d changes", len(got))
		}
	}
	pos, resync := 0, false
	for i, c := range got {
		if c.Op == registry.ChangeResync {
			resync = true
			continue
		}
		j := pos
		for j < len(want) && want[j] != c {
			j++
		}
		switch {
		case j == len(want):
			t.Fatalf("change %d %+v was not committed at that point (out of order or duplicated)", i, c)
		case j > pos && !resync:
			t.Fatalf("changes %d..%d were skipped without a ChangeResync before %+v", pos, j-1, c)
		}
		pos, resync = j+1, false
	}
}

func (s *suite) testFeedCloses(t *testing.T) {
	st := s.open(t)
	w := s.watcher(t, st)
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := w.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, st, Record("a", 1))
	s.expect(t, "before cancel", ch, put("a", 1))
	cancel()
	timeout := time.After(s.cfg.feedTimeout)
	for {
		select {
		case _, open := <-ch:
			if !open {
				return
			}
		case <-timeout:
			t.Fatal("the channel stayed open after its context ended")
		}
	}
}

func (s *suite) testRewrite(t *testing.T) {
	st, ctx := s.open(t), ctxT(t)
	rw, ok := st.(registry.Rewriter)
	if !ok {
		t.Fatalf("%T does not implement registry.Rewriter (declare Without(Rewrite) if it is meant to lack it)", st)
	}
	var ch <-chan registry.Change
	if w, ok := st.(registry.Watcher); ok {
		ch = watch(t, w)
	}
	mustPut(t, st, Record("a", 1))
	mustPut(t, st, Record("a", 2))
	if ch != nil {
		s.expect(t, "before the rewrite", ch, put("a", 1), put("a", 2))
	}
	if hs, ok := st.(registry.HealthStore); ok {
		if err := hs.UpdateHealth(ctx, "a", func(h *registry.Health) { h.Consumers = []registry.Consumer{{Kind: "namespace", Name: "team-a"}} }); err != nil {
			t.Fatal(err)
		}
	}
	again := Record("a", 2)
	again.Name = "rewritten" // stands for a new stored form of the same content
	if err := rw.Rewrite(ctx, again); err != nil {
		t.Fatal(err)
	}
	got, err := st.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	diffRecord(t, "after Rewrite", again, got)
	wantErr(t, "Rewrite(stale)", rw.Rewrite(ctx, Record("a", 1)), registry.ErrConflict)
	wantErr(t, "Rewrite(ahead)", rw.Rewrite(ctx, Record("a", 3)), registry.ErrConflict)
	wantErr(t, "Rewrite(missing)", rw.Rewrite(ctx, Record("missing", 1)), registry.ErrNotFound)
	wantErr(t, "Rewrite(redacted)", rw.Rewrite(ctx, Record("a", 2).Redacted()), registry.ErrRedacted)
	if got, _ := st.Get(ctx, "a"); got.Name != "rewritten" {
		t.Fatalf("a refused Rewrite changed the record: %q", got.Name)
	}
	if hs, ok := st.(registry.HealthStore); ok {
		if h, _ := hs.Health(ctx, "a"); len(h.Consumers) != 1 {
			t.Errorf("Rewrite dropped the record's health: %+v", h)
		}
	}
	if ch != nil {
		mustPut(t, st, Record("b", 1))
		s.expect(t, "after the rewrite (it publishes nothing)", ch, put("b", 1))
	}
	if s.cfg.reopen != nil {
		got, err := s.cfg.reopen(t, st).Get(ctx, "a")
		if err != nil || got.Name != "rewritten" || got.Version != 2 {
			t.Fatalf("another handle reads %q v%d, %v", got.Name, got.Version, err)
		}
	}
}

func (s *suite) healthStore(t *testing.T, st registry.Store) registry.HealthStore {
	hs, ok := st.(registry.HealthStore)
	if !ok {
		t.Fatalf("%T does not implement registry.HealthStore (declare Without(Health) if it is meant to lack it)", st)
	}
	return hs
}

func (s *suite) testHealth(t *testing.T) {
	st, ctx := s.open(t), ctxT(t)
	hs := s.healthStore(t, st)
	_, err := hs.Health(ctx, "missing")
	wantErr(t, "Health(missing)", err, registry.ErrNotFound)
	wantErr(t, "UpdateHealth(missing)", hs.UpdateHealth(ctx, "missing", func(*registry.Health) {}), registry.ErrNotFound)
	mustPut(t, st, Record("a", 1))
	mustPut(t, st, Record("b", 1))
	if h, err := hs.Health(ctx, "a"); err != nil || !h.IsZero() {
		t.Fatalf("Health of a new record = %+v, %v; want zero", h, err)
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 891011121, time.UTC)
	want := registry.Health{
		Test:      &registry.TestHealth{Verdict: registry.VerdictFailed, Step: registry.StepAuth, Cause: "the registry refused the credentials", At: at, Version: 1},
		Token:     &registry.TokenHealth{ExpiresAt: at.Add(12 * time.Hour), Refreshed: at, Error: "unavailable", ErrorAt: at.Add(-time.Hour)},
		Consumers: []registry.Consumer{{Kind: registry.ConsumerNamespace, Name: "team-a", Seen: at}, {Kind: registry.ConsumerSwarmService, Name: "web", Seen: at}},
	}
	if err := hs.UpdateHealth(ctx, "a", func(h *registry.Health) { *h = want.Clone() }); err != nil {
		t.Fatal(err)
	}
	got, err := hs.Health(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	diffHealth(t, "Health after UpdateHealth", want, got)
	got.Consumers[0].Name = "changed"
	if again, _ := hs.Health(ctx, "a"); again.Consumers[0].Name != "team-a" {
		t.Error("Health returned shared slices")
	}
	r, _ := st.Get(ctx, "a")
	if r.Version != 1 {
		t.Fatalf("a health write bumped the version to %d", r.Version)
	}
	diffRecord(t, "the record after a health write", Record("a", 1), r)
	all, err := hs.ListHealth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Fatalf("ListHealth = %d entries, want only a's", len(all))
	}
	diffHealth(t, "ListHealth[a]", want, all["a"])
	// Put keeps health; Delete drops it.
	mustPut(t, st, Record("a", 2))
	if h, _ := hs.Health(ctx, "a"); h.Test == nil {
		t.Error("Put dropped the record's health")
	}
	if s.cfg.reopen != nil {
		oh := s.cfg.reopen(t, st).(registry.HealthStore)
		h, err := oh.Health(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		diffHealth(t, "Health through another handle", want, h)
	}
	if err := st.Delete(ctx, "a", 0); err != nil {
		t.Fatal(err)
	}
	mustPut(t, st, Record("a", 1))
	if h, _ := hs.Health(ctx, "a"); !h.IsZero() {
		t.Fatalf("a re-created record has the old health: %+v", h)
	}
}

func diffHealth(t *testing.T, what string, want, got registry.Health) {
	t.Helper()
	if want.Test != nil && got.Test != nil && !want.Test.At.Equal(got.Test.At) {
		t.Errorf("%s: test time %v, want %v", what, got.Test.At, want.Test.At)
	}
	if diff := cmpDiff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// testHealthConcurrent races UpdateHealth: no update is lost.
func (s *suite) testHealthConcurrent(t *testing.T) {
	st, ctx := s.open(t), ctxT(t)
	hs := s.healthStore(t, st)
	mustPut(t, st, Record("a", 1))
	handles := s.handles(t, st, 4)
	const each = 10
	var wg sync.WaitGroup
	for w, h := range handles {
		hh := h.(registry.HealthStore)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				err := hh.UpdateHealth(ctx, "a", func(h *registry.Health) {
					h.Consumers = append(h.Consumers, registry.Consumer{Kind: "test", Name: strconv.Itoa(w) + "-" + strconv.Itoa(i)})
				})
				if err != nil {
					t.Errorf("UpdateHealth: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	h, err := hs.Health(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Consumers) != len(handles)*each {
		t.Fatalf("%d consumers after %d racing updates: updates were lost", len(h.Consumers), len(handles)*each)
	}
	if r, _ := st.Get(ctx, "a"); r.Version != 1 {
		t.Fatalf("health writes bumped the version to %d", r.Version)
	}
}
