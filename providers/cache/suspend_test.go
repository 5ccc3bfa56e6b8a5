package cache

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/registry"
)

// moveWall returns t with its wall reading moved by d and its monotonic reading kept: what
// the system clock reads after the machine slept through d (Linux pauses the monotonic
// clock while suspended), or after an NTP step of d. No time API builds such a value, so
// this edits the wall word of a time.Time that has a monotonic reading (layout since Go
// 1.9: wall = hasMonotonic bit, 33 bits of seconds since 1885, 30 bits of nanoseconds;
// ext = the monotonic reading) and checks the result, failing loudly if the layout changes.
func moveWall(tb testing.TB, t time.Time, d time.Duration) time.Time {
	tb.Helper()
	if d%time.Second != 0 {
		tb.Fatalf("moveWall takes whole seconds, got %v", d)
	}
	u := t
	words := (*struct {
		wall uint64
		ext  int64
	})(unsafe.Pointer(&u))
	const hasMonotonic = 1 << 63
	if words.wall&hasMonotonic == 0 {
		tb.Fatal("moveWall needs a time with a monotonic reading (from time.Now)")
	}
	words.wall += uint64(int64(d/time.Second)) << 30 // two's complement: a negative d subtracts
	if got := u.Round(0).Sub(t.Round(0)); got != d {
		tb.Fatalf("time.Time layout changed: the wall reading moved %v, want %v", got, d)
	}
	if got := u.Sub(t); got != 0 {
		tb.Fatalf("time.Time layout changed: the monotonic reading moved %v, want 0", got)
	}
	return u
}

// suspendClock is a clock whose readings a test sets, monotonic readings included.
type suspendClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *suspendClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
func (c *suspendClock) NewTimer(d time.Duration) clock.Timer { return clock.Real{}.NewTimer(d) }
func (c *suspendClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func TestMoveWall(t *testing.T) {
	start := time.Now()
	for _, d := range []time.Duration{2 * time.Hour, -time.Hour} {
		u := moveWall(t, start.Add(time.Minute), d)
		if u.Sub(start) != time.Minute || u.Round(0).Sub(start.Round(0)) != d+time.Minute {
			t.Fatalf("moveWall(%v): monotonic %v, wall %v", d, u.Sub(start), u.Round(0).Sub(start.Round(0)))
		}
	}
}

// A one-hour token, then the laptop sleeps for two hours: on waking, the monotonic clock
// says one minute passed, the wall clock says the token expired an hour ago. The cache
// must refresh instead of serving the expired token from its fast path.
func TestSuspendedPastExpiryRefreshes(t *testing.T) {
	start := time.Now()
	clk := &suspendClock{t: start}
	var calls int
	up := registry.ProviderFunc(func(context.Context) (registry.Credentials, error) {
		calls++
		// A token endpoint's expiry is a wall-clock time (parsed from JSON: no monotonic
		// reading), one hour from the machine's wall clock.
		return registry.Credentials{Username: "AWS", Password: registry.Secret("token-" + string(rune('0'+calls))),
			ExpiresAt: clk.Now().Round(0).Add(time.Hour)}, nil
	})
	p := New(up, WithClock(clk))
	ctx := context.Background()
	first, err := p.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clk.set(moveWall(t, start.Add(time.Minute), 2*time.Hour))
	got, err := p.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Password == first.Password || calls != 2 {
		t.Fatalf("after a 2h suspend the cache served the token that expired an hour ago (upstream calls %d)", calls)
	}
	if !got.ExpiresAt.After(clk.Now().Round(0)) {
		t.Fatalf("served a token expiring %v, before the wall clock %v", got.ExpiresAt, clk.Now().Round(0))
	}
}

// The same, with a token endpoint that fails on waking and a provider that stamped the
// expiry with a monotonic reading (time.Now().Add): the old token must not be served as
// "still valid" either; the caller gets ErrExpired.
func TestSuspendedPastExpiryNeverServesOldToken(t *testing.T) {
	start := time.Now()
	clk := &suspendClock{t: start}
	fail := false
	up := registry.ProviderFunc(func(context.Context) (registry.Credentials, error) {
		if fail {
			return registry.Credentials{}, errors.New("endpoint down")
		}
		return registry.Credentials{Username: "AWS", Password: "token", ExpiresAt: clk.Now().Add(time.Hour)}, nil
	})
	p := New(up, WithClock(clk))
	ctx := context.Background()
	if _, err := p.Credentials(ctx); err != nil {
		t.Fatal(err)
	}
	fail = true
	clk.set(moveWall(t, start.Add(time.Minute), 2*time.Hour))
	got, err := p.Credentials(ctx)
	if err == nil || !errors.Is(err, registry.ErrExpired) {
		t.Fatalf("after a 2h suspend with the endpoint down: %v, %v; want ErrExpired, never the expired token", got, err)
	}
	// Backing off now: still never the old token.
	if got, err := p.Credentials(ctx); err == nil || got.Password != "" {
		t.Fatalf("during back-off: %v, %v; want an error", got, err)
	}
}

// A wall-clock step backwards (NTP) does not stretch a token's life: the monotonic clock
// still says it is due.
func TestWallStepBackStillRefreshes(t *testing.T) {
	start := time.Now()
	clk := &suspendClock{t: start}
	var calls int
	up := registry.ProviderFunc(func(context.Context) (registry.Credentials, error) {
		calls++
		return registry.Credentials{Username: "AWS", Password: "token", ExpiresAt: clk.Now().Round(0).Add(time.Hour)}, nil
	})
	p := New(up, WithClock(clk))
	ctx := context.Background()
	p.Credentials(ctx)
	// 55 minutes pass on the monotonic clock while the wall clock is set back an hour.
	clk.set(moveWall(t, start.Add(55*time.Minute), -time.Hour))
	p.Credentials(ctx)
	if calls != 2 {
		t.Fatalf("upstream calls = %d after 55 minutes of a one-hour token with the wall clock set back; want a refresh", calls)
	}
}
