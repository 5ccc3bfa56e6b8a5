package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/regcred/regcred/registry"
)

// Factory returns a fresh, empty store. Cleanups go to t.Cleanup.
type Factory func(t *testing.T) registry.Store

// Option configures Run.
type Option func(*config)

type config struct {
	without     map[Capability]bool
	reopen      func(t *testing.T, s registry.Store) registry.Store
	feedTimeout time.Duration
	writers     int
	writes      int
	large       int
}

// Capability is an optional part of the Store contract. Run checks every capability
// unless the caller declares the store without it (Without); then Run checks that the
// store really lacks it, and runs none of its checks. Nothing is skipped: a wrapper store
// that stops forwarding Watch fails the suite instead of passing it with fewer checks.
type Capability string

// The optional capabilities.
const (
	Watch   Capability = "watch"   // registry.Watcher: a change feed
	Rewrite Capability = "rewrite" // registry.Rewriter: a new stored form at the same version
	Health  Capability = "health"  // registry.HealthStore: health beside the record
	Reopen  Capability = "reopen"  // a second handle on the same data (WithReopen gives it)
)

// Without declares capabilities the store does not have (a store in memory has no second
// handle: Without(Reopen)).
func Without(caps ...Capability) Option {
	return func(c *config) {
		for _, cp := range caps {
			c.without[cp] = true
		}
	}
}

// WithReopen gives a second handle on the data of s: another file store on its path,
// another connection pool on its database, the same wrapper over a second handle. The
// suite then checks persistence, races between handles and the change feed across
// handles. A store without a second handle says so with Without(Reopen).
func WithReopen(f func(t *testing.T, s registry.Store) registry.Store) Option {
	return func(c *config) { c.reopen = f }
}

// WithFeedTimeout bounds how long a change may take to reach a watcher (default 10 s).
func WithFeedTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.feedTimeout = d
		}
	}
}

// WithConcurrency sets the racing writers and the writes of each (default 8 x 25).
func WithConcurrency(writers, writes int) Option {
	return func(c *config) {
		if writers > 0 && writes > 0 {
			c.writers, c.writes = writers, writes
		}
	}
}

// WithLargeRecord sets the size in bytes of the secret of the large-record check
// (default 4 MiB).
func WithLargeRecord(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.large = n
		}
	}
}

// Run runs the conformance suite against the stores newStore makes, each subtest on a
// fresh one.
func Run(t *testing.T, newStore Factory, opts ...Option) {
	t.Helper()
	c := &config{feedTimeout: 10 * time.Second, writers: 8, writes: 25, large: 4 << 20, without: map[Capability]bool{}}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	switch {
	case c.reopen == nil && !c.without[Reopen]:
		t.Fatal("storetest: give the store's second handle (WithReopen) or declare Without(Reopen)")
	case c.reopen != nil && c.without[Reopen]:
		t.Fatal("storetest: WithReopen and Without(Reopen) contradict each other")
	}
	s := &suite{cfg: c, open: newStore}
	type test struct {
		name string
		fn   func(t *testing.T)
	}
	tests := []test{
		{"Empty", s.testEmpty},
		{"RoundTrip", s.testRoundTrip},
		{"Copies", s.testCopies},
		{"Versions", s.testVersions},
		{"Redacted", s.testRedacted},
		{"Ordering", s.testOrdering},
		{"LargeRecord", s.testLarge},
		{"ManyRecords", s.testMany},
		{"ConcurrentUpdates", s.testConcurrentUpdates},
		{"ConcurrentCreates", s.testConcurrentCreates},
		{"Cancelled", s.testCancelled},
	}
	if !c.without[Reopen] {
		tests = append(tests, test{"Reopen", s.testReopen})
	}
	if c.without[Watch] {
		tests = append(tests, test{"LacksWatch", s.lacks(Watch)})
	} else {
		tests = append(tests, test{"Feed", s.testFeed}, test{"FeedNoReplay", s.testFeedNoReplay},
			test{"FeedSlowConsumer", s.testFeedSlowConsumer}, test{"FeedClosesWithContext", s.testFeedCloses})
		if !c.without[Reopen] {
			tests = append(tests, test{"FeedOtherHandle", s.testFeedOtherHandle})
		}
	}
	if c.without[Rewrite] {
		tests = append(tests, test{"LacksRewrite", s.lacks(Rewrite)})
	} else {
		tests = append(tests, test{"Rewrite", s.testRewrite})
	}
	if c.without[Health] {
		tests = append(tests, test{"LacksHealth", s.lacks(Health)})
	} else {
		tests = append(tests, test{"Health", s.testHealth}, test{"HealthConcurrent", s.testHealthConcurrent})
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.fn)
	}
}

type suite struct {
	cfg  *config
	open Factory
}

// Record returns a record with every field set, for the store to round-trip: a custom
// registry with a secret, a CA bundle, a mirror relation and times with nanoseconds in two
// time zones.
func Record(id string, version int64) registry.Registry {
	return registry.Registry{
		ID: id, Name: "registry " + id, Kind: registry.KindCustom, Server: "registry.example.com:5000/team",
		Fields: map[string]string{"username": "robot$" + id, "password": "s3cr3t-" + id + "-v" + strconv.FormatInt(version, 10)},
		TLS:    registry.TLS{Mode: registry.TLSCustomCA, CABundle: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", SystemRoots: true},
		Owner:  "alice", Version: version,
		Mirror:            &registry.Mirror{Of: "docker.io", Order: 2, Fallback: true},
		Scope:             registry.Scope{Teams: []string{"payments"}, Namespaces: []string{"prod-*", "staging"}},
		CredentialsExpire: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC),
		Created:           time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC),
		Updated:           time.Date(2026, 3, 2, 13, 4, 5, 987654321, time.FixedZone("CET", 3600)).Add(time.Duration(version) * time.Second),
	}
}

var cmpRecord = cmp.Options{cmp.AllowUnexported(registry.Registry{}), cmpopts.EquateEmpty()}

func diffRecord(t *testing.T, what string, want, got registry.Registry) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmpRecord); diff != "" {
		// The diff may show secrets of the fixtures only.
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func mustPut(t *testing.T, s registry.Store, r registry.Registry) {
	t.Helper()
	if err := s.Put(ctxT(t), r); err != nil {
		t.Fatalf("Put(%s v%d) = %v", r.ID, r.Version, err)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s = %v, want an error wrapping %v", what, err, target)
	}
}

func (s *suite) testEmpty(t *testing.T) {
	st, ctx := s.open(t), ctxT(t)
	if l, err := st.List(ctx); err != nil || len(l) != 0 {
		t.Errorf("List of an empty store = %v, %v; want nothing", l, err)
	}
	_, err := st.Get(ctx, "missing")
	wantErr(t, "Get(missing)", err, registry.ErrNotFound)
	wantErr(t, "Delete(missing)", st.Delete(ctx, "missing", 0), registry.ErrNotFound)
	wantErr(t, "Delete(missing, 1)", st.Delete(ctx, "missing", 1), registry.ErrNotFound)
	wantErr(t, "Put(missing v2)", st.Put(ctx, Record("missing", 2)), registry.ErrNotFound)
}

func (s *suite) testRoundTrip(t *testing.T) {
	st, ctx := s.open(t), ctxT(t)
	want := Record("full", 1)
	want.Default = true
	mustPut(t, st, want)
	got, err := st.Get(ctx, "full")
	if err != nil {
		t.Fatal(err)
	}
	diffRecord(t, "Get after Put", want, got)
	if got.IsRedacted() {
		t.Error("Get returned a record marked redacted")
	}
	l, err := st.List(ctx)
	if err != nil || len(l) != 1 {
		t.Fatalf("List = %d records, %v; want 1", len(l), err)
	}
	diffRecord(t, "List after Put", want, l[0])
	// A record with the least: no fields, no TLS, no times.
	min := registry.Registry{ID: "min", Name: "public", Kind: registry.KindPublic, Version: 1}
	mustPut(t, st, min)
	got, err = st.Get(ctx, "min")
	if err != nil {
		t.Fatal(err)
	}
	diffRecord(t, "Get of a minimal record", min, got)
	// A secret with every kind of character survives.
	odd := Record("odd", 1)
	odd.Fields["password"] = "p\"a\\s\ns\x00w\u00e9rd\u202e" + strings.Repeat("🙂", 3) + "REDACTED"
	mustPut(t, st, odd)
	got, err = st.Get(ctx, "odd")
	if err != nil {
		t.Fatal(err)
	}
	diffRecord(t, "Get of a record with odd characters", odd, got)
}

func (s *suite) testCopies(t *testing.T) {
	st, ctx := s.open(t), ctxT(t)
	in := Record("a", 1)
	mustPut(t, st, in)
	in.Fields["password"] = "changed-after-put"
	in.Mirror.Of = "changed.example.com"
	in.Scope.Teams[0] = "changed"
	got, err := st.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.Fields["password"] != "s3cr3t-a-v1" || got.Mirror.Of != "docker.io" || got.Scope.Teams[0] != "payments" {
		t.Fatalf("the store kept the caller's maps or pointers: %v %v", got.Fields["password"], got.Mirror.Of)
	}
	got.Fields["password"] = "changed-after-get"
	got.Mirror.Of = "changed.example.com"
	l, _ := st.List(ctx)
	l[0].Fields["username"] = "changed-after-list"
	again, _ := st.Get(ctx, "a")
	if again.Fields["password"] != "s3cr3t-a-v1" || again.Fields["username"] != "robot$a" || again.Mirror.Of != "docker.io" {
		t.Fatalf("Get or List returned shared maps or pointers: %+v", again.Fields)
	}
}

func (s *suite) testVersions(t *testing.T) {
	st, ctx := s.open(t), ctxT(t)
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"create v1", func() error { return st.Put(ctx, Record("a", 1)) }, nil},
		{"create v1 again", func() error { return st.Put(ctx, Record("a", 1)) }, registry.ErrConflict},
		{"skip to v3", func() error { return st.Put(ctx, Record("a", 3)) }, registry.ErrConflict},
		{"update to v2", func() error { return st.Put(ctx, Record("a", 2)) }, nil},
		{"stale v2", func() error { return st.Put(ctx, Record("a", 2)) }, registry.ErrConflict},
		{"version 0", func() error { return st.Put(ctx, Record("a", 0)) }, registry.ErrInvalid},
		{"negative version", func() error { return st.Put(ctx, Record("b", -1)) }, registry.ErrInvalid},
		{"no id", func() error { return st.Put(ctx, Record("", 1)) }, registry.ErrInvalid},
		{"delete stale", func() error { return st.Delete(ctx, "a", 1) }, registry.ErrConflict},
		{"delete v2", func() error { return st.Delete(ctx, "a", 2) }, nil},
		{"delete again", func() error { return st.Delete(ctx, "a", 0) }, registry.ErrNotFound},
		{"put v3 after delete", func() error { return st.Put(ctx, Record("a", 3)) }, registry.ErrNotFound},
		{"create again", func() error { return st.Put(ctx, Record("a", 1)) }, nil},
		{"delete unconditionally", func() error { return st.Delete(ctx, "a", 0) }, nil},
	}
	for _, step := range steps {
		err := step.do()
		if step.want == nil && err != nil || step.want != nil && !errors.Is(err, step.want) {
			t.Fatalf("%s: %v, want %v", step.name, err, step.want)
		}
	}
	if _, err := st.Get(ctx, "a"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("Get after delete = %v, want ErrNotFound", err)
	}
	if _, err := st.Get(ctx, "b"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("a refused Put stored something: %v", err)
	}
	// A refused write leaves the stored record as it was.
	mustPut(t, st, Record("c", 1))
	stale := Record("c", 1)
	stale.Fields["password"] = "lost"
	if err := st.Put(ctx, stale); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("stale put = %v", err)
	}
	got, _ := st.Get(ctx, "c")
	diffRecord(t, "after a refused write", Record("c", 1), got)
}

func (s *suite) testRedacted(t *testing.T) {
	st, ctx := s.open(t), ctxT(t)
	wantErr(t, "Put(redacted v1)", st.Put(ctx, Record("r", 1).Redacted()), registry.ErrRedacted)
	if _, err := st.Get(ctx, "r"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("a redacted view was stored: %v", err)
	}
	mustPut(t, st, Record("r", 1))
	wantErr(t, "Put(redacted v2)", st.Put(ctx, Record("r", 2).Redacted()), registry.ErrRedacted)
	got, err := st.Get(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	diffRecord(t, "after a refused redacted update", Record("r", 1), got)
	// A real password that reads "REDACTED" is not a redacted view.
	lit := Record("lit", 1)
	lit.Fields["password"] = registry.Redacted
	mustPut(t, st, lit)
	got, _ = st.Get(ctx, "lit")
	if got.Fields["password"] != registry.Redacted || got.IsRedacted() {
		t.Fatalf("a literal REDACTED password came back as %q (marked %v)", got.Fields["password"], got.IsRedacted())
	}
}

func (s *suite) testOrdering(t *testing.T) {
	st, ctx := s.open(t), ctxT(t)
	ids := []string{"reg-b", "A", "reg-a", "reg-a-1", "reg_a", "reg.a", "z9", "Z", "10", "9", "é", "reg-ab", "a"}
	for _, id := range ids {
		mustPut(t, st, Record(id, 1))
	}
	l, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range l {
		got = append(got, r.ID)
	}
	want := append([]string(nil), ids...)
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("List is not sorted by ID byte-wise (-want +got):\n%s", diff)
	}
}

func (s *suite) testLarge(t *testing.T) {
	st, ctx := s.open(t), ctxT(t)
	r := Record("large", 1)
	var b strings.Builder
	for b.Len() < s.cfg.large {
		fmt.Fprintf(&b, "%08x", b.Len())
	}
	r.Fields["password"] = b.String()
	r.TLS.CABundle = strings.Repeat("-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END CERTIFICATE-----\n", 2000)
	mustPut(t, st, r)
	got, err := st.Get(ctx, "large")
	if err != nil {
		t.Fatal(err)
	}
	if got.Fields["password"] != r.Fields["password"] || got.TLS.CABundle != r.TLS.CABundle {
		t.Fatalf("a large record did not round-trip: password %d bytes (want %d), CA %d bytes (want %d)",
			len(got.Fields["password"]), len(r.Fields["password"]), len(got.TLS.CABundle), len(r.TLS.CABundle))
	}
	r2 := r.Clone()
	r2.Version = 2
	r2.Fields["password"] = r.Fields["password"][:len(r.Fields["password"])/2]
	mustPut(t, st, r2)
	got, _ = st.Get(ctx, "large")
	if got.Fields["password"] != r2.Fields["password"] {
		t.Fatalf("a shrunk record came back with %d bytes, want %d", len(got.Fields["password"]), len(r2.Fields["password"]))
	}
}

func (s *suite) testMany(t *testing.T) {
	st, ctx := s.open(t), ctxT(t)
	const n = 300
	for i := range n {
		mustPut(t, st, Record(fmt.Sprintf("reg-%04d", n-1-i), 1))
	}
	l, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != n {
		t.Fatalf("List = %d records, want %d", len(l), n)
	}
	for i, r := range l {
		if want := fmt.Sprintf("reg-%04d", i); r.ID != want || r.Fields["password"] != "s3cr3t-"+want+"-v1" {
			t.Fatalf("List[%d] = %s, want %s with its secret", i, r.ID, want)
		}
	}
}

// handles returns n handles on one store: the first, and others by reopen when given.
func (s *suite) handles(t *testing.T, st registry.Store, n int) []registry.Store {
	hs := []registry.Store{st}
	for len(hs) < n {
		if s.cfg.reopen != nil && len(hs)%2 == 1 {
			hs = append(hs, s.cfg.reopen(t, st))
		} else {
			hs = append(hs, st)
		}
	}
	return hs
}

// testConcurrentUpdates races read-modify-write loops on one record: every successful
// write counts once, none is lost, and the version says how many there were.
func (s *suite) testConcurrentUpdates(t *testing.T) {
	st, ctx := s.open(t), ctxT(t)
	first := Record("hot", 1)
	first.Fields["password"] = "0"
	mustPut(t, st, first)
	hs := s.handles(t, st, s.cfg.writers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conflicts int
	errs := make(chan error, s.cfg.writers)
	for w := range s.cfg.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := hs[w]
			for done := 0; done < s.cfg.writes; {
				cur, err := h.Get(ctx, "hot")
				if err != nil {
					errs <- err
					return
				}
				n, _ := strconv.Atoi(cur.Fields["password"])
				next := cur.Clone()
				next.Fields["password"] = strconv.Itoa(n + 1)
				next.Version++
				switch err := h.Put(ctx, next); {
				case err == nil:
					done++
				case errors.Is(err, registry.ErrConflict):
					mu.Lock()
					conflicts++
					mu.Unlock()
				default:
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a racing writer failed with something else than ErrConflict: %v", err)
	}
	total := s.cfg.writers * s.cfg.writes
	for i, h := range hs[:min(2, len(hs))] {
		got, err := h.Get(ctx, "hot")
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != int64(1+total) || got.Fields["password"] != strconv.Itoa(total) {
			t.Fatalf("handle %d: after %d successful increments: version %d, counter %s (%d conflicts); a write was lost",
				i, total, got.Version, got.Fields["password"], conflicts)
		}
	}
}

// testConcurrentCreates races creators of one ID: exactly one wins.
func (s *suite) testConcurrentCreates(t *testing.T) {
	st, ctx := s.open(t), ctxT(t)
	hs := s.handles(t, st, s.cfg.writers)
	var wg sync.WaitGroup
	results := make([]error, s.cfg.writers)
	for w := range s.cfg.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := Record("same", 1)
			r.Fields["password"] = "writer-" + strconv.Itoa(w)
			results[w] = hs[w].Put(ctx, r)
		}()
	}
	wg.Wait()
	winner := -1
	for w, err := range results {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both created the record", winner, w)
		case err == nil:
			winner = w
		case !errors.Is(err, registry.ErrConflict):
			t.Fatalf("writer %d: %v, want ErrConflict", w, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer created the record")
	}
	got, err := st.Get(ctx, "same")
	if err != nil || got.Fields["password"] != "writer-"+strconv.Itoa(winner) {
		t.Fatalf("stored %q, %v; the winner was writer %d", got.Fields["password"], err, winner)
	}
}

func (s *suite) testCancelled(t *testing.T) {
	st := s.open(t)
	mustPut(t, st, Record("a", 1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	wantErr(t, "Put(cancelled)", st.Put(ctx, Record("b", 1)), context.Canceled)
	wantErr(t, "Put(cancelled update)", st.Put(ctx, Record("a", 2)), context.Canceled)
	wantErr(t, "Delete(cancelled)", st.Delete(ctx, "a", 1), context.Canceled)
	_, err := st.Get(ctx, "a")
	wantErr(t, "Get(cancelled)", err, context.Canceled)
	_, err = st.List(ctx)
	wantErr(t, "List(cancelled)", err, context.Canceled)
	if hs, ok := st.(registry.HealthStore); ok {
		wantErr(t, "UpdateHealth(cancelled)", hs.UpdateHealth(ctx, "a", func(h *registry.Health) {
			h.Test = &registry.TestHealth{Verdict: registry.VerdictOK}
		}), context.Canceled)
	}
	if rw, ok := st.(registry.Rewriter); ok {
		wantErr(t, "Rewrite(cancelled)", rw.Rewrite(ctx, Record("a", 1)), context.Canceled)
	}
	if w, ok := st.(registry.Watcher); ok {
		ch, err := w.Watch(ctx)
		if err == nil {
			select {
			case _, open := <-ch:
				if open {
					t.Error("Watch(cancelled) delivered a change")
				}
			case <-time.After(s.cfg.feedTimeout):
				t.Error("Watch(cancelled) returned a channel that stays open")
			}
		}
	}
	// Nothing was written.
	l, err := st.List(context.Background())
	if err != nil || len(l) != 1 || l[0].Version != 1 {
		t.Fatalf("after cancelled writes: %d records, %v; want only a v1", len(l), err)
	}
	if hs, ok := st.(registry.HealthStore); ok {
		if h, _ := hs.Health(context.Background(), "a"); h.Test != nil {
			t.Error("a cancelled UpdateHealth was applied")
		}
	}
}

// lacks checks that a store declared Without(cp) really lacks it: a declaration that has
// gone stale (the store gained the capability) would hide its checks.
func (s *suite) lacks(cp Capability) func(t *testing.T) {
	return func(t *testing.T) {
		st := s.open(t)
		var has bool
		switch cp {
		case Watch:
			_, has = st.(registry.Watcher)
		case Rewrite:
			_, has = st.(registry.Rewriter)
		case Health:
			_, has = st.(registry.HealthStore)
		}
		if has {
			t.Fatalf("%T implements the %s capability declared absent: drop it from Without so the suite checks it", st, cp)
		}
	}
}

func (s *suite) testReopen(t *testing.T) {
	st, ctx := s.open(t), ctxT(t)
	mustPut(t, st, Record("a", 1))
	mustPut(t, st, Record("b", 1))
	other := s.cfg.reopen(t, st)
	got, err := other.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	diffRecord(t, "Get through another handle", Record("a", 1), got)
	// Writes through either handle are seen by the other.
	mustPut(t, other, Record("a", 2))
	if err := other.Delete(ctx, "b", 1); err != nil {
		t.Fatal(err)
	}
	got, err = st.Get(ctx, "a")
	if err != nil || got.Version != 2 {
		t.Fatalf("the first handle sees a at version %d, %v; want 2", got.Version, err)
	}
	if _, err := st.Get(ctx, "b"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("the first handle still sees a deleted record: %v", err)
	}
	// The version rule holds across handles.
	wantErr(t, "stale Put through the first handle", st.Put(ctx, Record("a", 2)), registry.ErrConflict)
	mustPut(t, st, Record("a", 3))
	if got, _ := other.Get(ctx, "a"); got.Version != 3 {
		t.Fatalf("the second handle sees version %d, want 3", got.Version)
	}
}

func cmpDiff(want, got any) string { return cmp.Diff(want, got, cmpopts.EquateEmpty()) }
