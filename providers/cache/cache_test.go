package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/registry"
)

func newClock() *clock.Fake { return clock.NewFake(time.Date(2026, 3, 6, 2, 14, 19, 0, time.UTC)) }

// upstream is a fake token source: it counts calls and issues numbered tokens that live
// `life` from the fake clock's now, or fails with err when set.
type upstream struct {
	clk   clock.Clock
	life  time.Duration
	calls atomic.Int64
	mu    sync.Mutex
	err   error
	gate  chan struct{} // when non-nil, each call waits for it to close
}

const secretPrefix = "s3cr3t-token-"

func (u *upstream) Credentials(ctx context.Context) (registry.Credentials, error) {
	n := u.calls.Add(1)
	u.mu.Lock()
	err, gate := u.err, u.gate
	u.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return registry.Credentials{}, ctx.Err()
		}
	}
	if err != nil {
		return registry.Credentials{}, err
	}
	c := registry.Credentials{Username: "AWS", Password: registry.Secret(fmt.Sprintf("%s%d", secretPrefix, n))}
	if u.life != 0 {
		c.ExpiresAt = u.clk.Now().Add(u.life)
	}
	return c, nil
}

func (u *upstream) setErr(err error) {
	u.mu.Lock()
	u.err = err
	u.mu.Unlock()
}

func identity(d time.Duration) time.Duration { return d }

func TestRefreshTime(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		life   time.Duration
		opts   []Option
		wantIn time.Duration // refresh this long after start
	}{
		{"ecr 12h: share wins", 12 * time.Hour, nil, 576 * time.Minute},
		{"google 1h: share wins", time.Hour, nil, 48 * time.Minute},
		{"kube 10m: margin wins", 10 * time.Minute, nil, 5 * time.Minute},
		{"2m token: margin before start ignored", 2 * time.Minute, nil, 96 * time.Second},
		{"share 0.5", 12 * time.Hour, []Option{WithShare(0.5)}, 6 * time.Hour},
		{"margin 4h wins over 80%", 12 * time.Hour, []Option{WithMinMargin(4 * time.Hour)}, 8 * time.Hour},
		{"margin 0 disables", 10 * time.Minute, []Option{WithMinMargin(0)}, 8 * time.Minute},
		{"bad share keeps default", 12 * time.Hour, []Option{WithShare(1.5)}, 576 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(registry.Anonymous(), tt.opts...).(*cached)
			got := c.refreshTime(start, start.Add(tt.life)).Sub(start)
			if got != tt.wantIn {
				t.Fatalf("refresh after %v, want %v", got, tt.wantIn)
			}
		})
	}
}

func TestNeverWrapsTwice(t *testing.T) {
	once := New(registry.Anonymous())
	twice := New(once, WithShare(0.5))
	if once != twice {
		t.Fatal("New wrapped a cached provider again")
	}
	if !IsCached(once) || IsCached(registry.Anonymous()) {
		t.Fatal("IsCached is wrong")
	}
}

func TestNilProvider(t *testing.T) {
	_, err := New(nil).Credentials(context.Background())
	if !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
}

// 1,000 goroutines find the value expired: exactly one upstream call serves them all.
func TestConcurrentExpiredOneUpstreamCall(t *testing.T) {
	clk := newClock()
	up := &upstream{clk: clk, life: 12 * time.Hour}
	p := New(up, WithClock(clk))
	ctx := context.Background()
	if _, err := p.Credentials(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(13 * time.Hour) // expired
	gate := make(chan struct{})
	up.mu.Lock()
	up.gate = gate
	up.mu.Unlock()
	before := up.calls.Load()

	const n = 1000
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	got := make([]registry.Credentials, n)
	errs := make([]error, n)
	for i := range n {
		go func() {
			defer done.Done()
			started.Done()
			got[i], errs[i] = p.Credentials(ctx)
		}()
	}
	started.Wait()
	for up.calls.Load() == before { // the leader is inside upstream; the rest queue behind it
		time.Sleep(time.Millisecond)
	}
	close(gate)
	done.Wait()
	if calls := up.calls.Load() - before; calls != 1 {
		t.Fatalf("upstream calls = %d for %d concurrent callers, want 1", calls, n)
	}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if got[i].Password.Reveal() != secretPrefix+"2" {
			t.Fatalf("caller %d got token %q, want the refreshed one", i, got[i].Password.Reveal())
		}
	}
}

// 48 simulated hours of a 12 h ECR-like token, read every minute (and at random moments):
// each token is fetched once, refreshed once at 80% of its life, and no caller ever holds an
// expired token.
func TestSimulated48Hours(t *testing.T) {
	for _, step := range []string{"every minute", "random steps"} {
		t.Run(step, func(t *testing.T) {
			clk := newClock()
			start := clk.Now()
			up := &upstream{clk: clk, life: 12 * time.Hour}
			p := New(up, WithClock(clk))
			rng := rand.New(rand.NewPCG(1, 2))
			seen := map[string]time.Time{} // token -> first time served
			var order []string
			for clk.Now().Sub(start) < 48*time.Hour {
				now := clk.Now()
				c, err := p.Credentials(context.Background())
				if err != nil {
					t.Fatalf("at +%v: %v", now.Sub(start), err)
				}
				if c.Expired(now) || !c.ExpiresAt.After(now) {
					t.Fatalf("at +%v a caller got a token expiring at +%v", now.Sub(start), c.ExpiresAt.Sub(start))
				}
				if _, ok := seen[c.Password.Reveal()]; !ok {
					seen[c.Password.Reveal()] = now
					order = append(order, c.Password.Reveal())
				}
				if step == "every minute" {
					clk.Advance(time.Minute)
				} else {
					clk.Advance(time.Duration(rng.Int64N(int64(20 * time.Minute))))
				}
			}
			calls := int(up.calls.Load())
			if calls != len(seen) {
				t.Fatalf("upstream calls = %d but %d distinct tokens served: a token was fetched more than once", calls, len(seen))
			}
			// One upstream call per token lifetime: each token is replaced once, after 80% of
			// its life and before its end.
			for i := 1; i < len(order); i++ {
				gap := seen[order[i]].Sub(seen[order[i-1]])
				if gap < 576*time.Minute || gap >= 12*time.Hour {
					t.Fatalf("token %d replaced after %v, want within [9h36m, 12h)", i, gap)
				}
			}
			if want := 5; calls != want { // t=0, 9.6h, 19.2h, 28.8h, 38.4h
				t.Fatalf("upstream calls over 48h = %d, want %d", calls, want)
			}
			t.Logf("48h of a 12h token: %d upstream calls, 1 per token lifetime, %.2f per 12h of wall time", calls, float64(calls)/4)
		})
	}
}

func TestZeroExpiryNeverRefreshes(t *testing.T) {
	clk := newClock()
	up := &upstream{clk: clk} // life 0: no expiry
	p := New(up, WithClock(clk))
	for range 3 {
		if _, err := p.Credentials(context.Background()); err != nil {
			t.Fatal(err)
		}
		clk.Advance(10 * 365 * 24 * time.Hour)
	}
	if up.calls.Load() != 1 {
		t.Fatalf("upstream calls = %d, want 1", up.calls.Load())
	}
	if !p.(registry.Expirer).ExpiresAt().IsZero() {
		t.Fatal("ExpiresAt not zero for a value that never expires")
	}
	p.(registry.Invalidator).Invalidate()
	if _, err := p.Credentials(context.Background()); err != nil || up.calls.Load() != 2 {
		t.Fatalf("after Invalidate: calls = %d, err = %v, want 2, nil", up.calls.Load(), err)
	}
}

func TestInvalidateForcesRefresh(t *testing.T) {
	clk := newClock()
	up := &upstream{clk: clk, life: time.Hour}
	p := New(up, WithClock(clk))
	ctx := context.Background()
	c1, _ := p.Credentials(ctx)
	c2, _ := p.Credentials(ctx)
	if c1.Password != c2.Password || up.calls.Load() != 1 {
		t.Fatal("fresh value not served from the cache")
	}
	p.(registry.Invalidator).Invalidate()
	if !p.(registry.Expirer).ExpiresAt().IsZero() {
		t.Fatal("ExpiresAt after Invalidate should be zero")
	}
	c3, err := p.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c3.Password == c1.Password || up.calls.Load() != 2 {
		t.Fatalf("Invalidate did not force a refresh (calls=%d)", up.calls.Load())
	}
	if got := p.(registry.Expirer).ExpiresAt(); !got.Equal(clk.Now().Add(time.Hour)) {
		t.Fatalf("ExpiresAt = %v", got)
	}
	if at, ok := RefreshAt(p); !ok || !at.Equal(clk.Now().Add(48*time.Minute)) {
		t.Fatalf("RefreshAt = %v, %v", at, ok)
	}
}

// A failed refresh keeps serving the old value until its real expiry, retries back off, and
// past the expiry the caller gets ErrExpired with the cause, never the expired value.
func TestFailedRefreshServesOldUntilExpiry(t *testing.T) {
	clk := newClock()
	up := &upstream{clk: clk, life: 12 * time.Hour}
	p := New(up, WithClock(clk), withJitter(identity), WithBackoff(time.Minute, 30*time.Minute))
	ctx := context.Background()
	good, err := p.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cause := &registry.Error{Op: "refresh", Registry: "ecr", Err: fmt.Errorf("token endpoint answered 503: %w", registry.ErrUnavailable)}
	up.setErr(cause)
	clk.Advance(10 * time.Hour) // due (9h36m) but valid until 12h
	var attempts []time.Duration
	start := clk.Now()
	for clk.Now().Before(good.ExpiresAt) {
		before := up.calls.Load()
		c, err := p.Credentials(ctx)
		if err != nil {
			t.Fatalf("at %v before expiry: %v", good.ExpiresAt.Sub(clk.Now()), err)
		}
		if c.Password != good.Password {
			t.Fatal("old value not served")
		}
		if up.calls.Load() != before {
			attempts = append(attempts, clk.Now().Sub(start))
		}
		clk.Advance(30 * time.Second)
	}
	// Back-off: 1m, 2m, 4m, 8m, 16m, 30m (capped), ... after each failure.
	want := []time.Duration{0, time.Minute, 3 * time.Minute, 7 * time.Minute, 15 * time.Minute, 31 * time.Minute, 61 * time.Minute, 91 * time.Minute}
	if diff := cmp.Diff(want, attempts); diff != "" {
		t.Fatalf("retry times (-want +got):\n%s", diff)
	}
	// Past the real expiry: never the expired value.
	clk.Advance(time.Hour)
	c, err := p.Credentials(ctx)
	if err == nil || !c.Anonymous() {
		t.Fatalf("expired value served: %v, %v", c, err)
	}
	var xe *ExpiredError
	var re *registry.Error
	if !errors.Is(err, registry.ErrExpired) || !errors.Is(err, registry.ErrUnavailable) || !errors.As(err, &xe) || !errors.As(err, &re) {
		t.Fatalf("err = %v: want *registry.Error wrapping *ExpiredError, ErrExpired and the cause", err)
	}
	if re.Op != "refresh" || !xe.ExpiresAt.Equal(good.ExpiresAt) {
		t.Fatalf("err fields: op=%q expiresAt=%v", re.Op, xe.ExpiresAt)
	}
	if strings.Contains(err.Error(), secretPrefix) {
		t.Fatalf("error leaks the token: %v", err)
	}
	// The endpoint recovers: the next call after the back-off refreshes.
	up.setErr(nil)
	clk.Advance(31 * time.Minute)
	if c, err := p.Credentials(ctx); err != nil || c.Expired(clk.Now()) {
		t.Fatalf("after recovery: %v, %v", c, err)
	}
}

// With no value at all, a failure is cached for the back-off: callers get the error without
// hammering the endpoint.
func TestNegativeCaching(t *testing.T) {
	clk := newClock()
	up := &upstream{clk: clk, life: time.Hour}
	up.setErr(&registry.Error{Op: "refresh", Err: fmt.Errorf("wrong keys: %w", registry.ErrUnauthorized)})
	p := New(up, WithClock(clk), withJitter(identity))
	for i := range 5 {
		_, err := p.Credentials(context.Background())
		if !errors.Is(err, registry.ErrUnauthorized) || errors.Is(err, registry.ErrExpired) {
			t.Fatalf("call %d: err = %v, want ErrUnauthorized only", i, err)
		}
	}
	if up.calls.Load() != 1 {
		t.Fatalf("upstream calls during back-off = %d, want 1", up.calls.Load())
	}
	clk.Advance(DefaultBackoffBase)
	p.Credentials(context.Background())
	if up.calls.Load() != 2 {
		t.Fatalf("upstream calls after back-off = %d, want 2", up.calls.Load())
	}
	p.(registry.Invalidator).Invalidate() // resets the back-off
	p.Credentials(context.Background())
	if up.calls.Load() != 3 {
		t.Fatalf("upstream calls after Invalidate = %d, want 3", up.calls.Load())
	}
}

func TestExpiredOnArrival(t *testing.T) {
	clk := newClock()
	up := &upstream{clk: clk, life: -time.Minute}
	p := New(up, WithClock(clk), WithName("prod-ecr"))
	c, err := p.Credentials(context.Background())
	if !errors.Is(err, registry.ErrExpired) || !c.Anonymous() {
		t.Fatalf("got %v, %v; want ErrExpired and no credentials", c, err)
	}
	if !strings.Contains(err.Error(), "prod-ecr") || !strings.Contains(err.Error(), "clock") {
		t.Fatalf("message does not say what happened: %v", err)
	}
	if !p.(registry.Expirer).ExpiresAt().IsZero() {
		t.Fatal("an expired value was stored")
	}
}

// Expired on arrival while an old value is valid: the old value keeps being served.
func TestExpiredOnArrivalKeepsOld(t *testing.T) {
	clk := newClock()
	up := &upstream{clk: clk, life: time.Hour}
	p := New(up, WithClock(clk))
	good, _ := p.Credentials(context.Background())
	up.life = -time.Second
	clk.Advance(50 * time.Minute)
	c, err := p.Credentials(context.Background())
	if err != nil || c.Password != good.Password {
		t.Fatalf("got %v, %v; want the old value", c, err)
	}
	if up.calls.Load() != 2 {
		t.Fatalf("calls = %d, want 2", up.calls.Load())
	}
}

// A hanging endpoint: a caller with no valid value gets an error when its ctx ends; a caller
// with a valid old value gets the old value.
func TestHangingUpstream(t *testing.T) {
	clk := newClock()
	up := &upstream{clk: clk, life: time.Hour}
	p := New(up, WithClock(clk))
	gate := make(chan struct{})
	defer close(gate)
	up.gate = gate

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := p.Credentials(ctx)
	if !errors.Is(err, registry.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	var re *registry.Error
	if !errors.As(err, &re) || re.Op != "refresh" {
		t.Fatalf("err = %#v, want *registry.Error{Op: refresh}", err)
	}
}

func TestHangingUpstreamServesOld(t *testing.T) {
	clk := newClock()
	up := &upstream{clk: clk, life: time.Hour}
	p := New(up, WithClock(clk), WithTimeout(time.Hour))
	good, _ := p.Credentials(context.Background())
	gate := make(chan struct{})
	defer close(gate)
	up.mu.Lock()
	up.gate = gate
	up.mu.Unlock()
	clk.Advance(50 * time.Minute) // due, still valid
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	c, err := p.Credentials(ctx)
	if err != nil || c.Password != good.Password {
		t.Fatalf("got %v, %v; want the old value", c, err)
	}
}

// One caller's cancelled ctx does not fail the shared refresh for the others.
func TestLeaderCancelDoesNotFailOthers(t *testing.T) {
	clk := newClock()
	up := &upstream{clk: clk, life: time.Hour}
	p := New(up, WithClock(clk))
	gate := make(chan struct{})
	up.gate = gate
	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error)
	go func() { _, err := p.Credentials(leaderCtx); leaderErr <- err }()
	for up.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader err = %v", err)
	}
	follower := make(chan error)
	go func() { _, err := p.Credentials(context.Background()); follower <- err }()
	close(gate)
	if err := <-follower; err != nil {
		t.Fatalf("follower failed because the leader gave up: %v", err)
	}
	if up.calls.Load() != 1 {
		t.Fatalf("calls = %d, want 1", up.calls.Load())
	}
}

func TestLogsNoSecret(t *testing.T) {
	clk := newClock()
	up := &upstream{clk: clk, life: time.Hour}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := New(up, WithClock(clk), WithLogger(log), WithName("prod"))
	p.Credentials(context.Background())
	up.setErr(fmt.Errorf("boom: %w", registry.ErrUnavailable))
	clk.Advance(50 * time.Minute)
	p.Credentials(context.Background())
	out := buf.String()
	for _, want := range []string{"credentials refreshed", "credential refresh failed", "serving_old_until", `"registry":"prod"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, secretPrefix) {
		t.Fatalf("log leaks a token:\n%s", out)
	}
}

func TestProviderPanicIsAnError(t *testing.T) {
	p := New(registry.ProviderFunc(func(context.Context) (registry.Credentials, error) { panic("s3cr3t-token-in-panic") }))
	_, err := p.Credentials(context.Background())
	if !errors.Is(err, registry.ErrUnavailable) || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("err = %v", err)
	}
}
