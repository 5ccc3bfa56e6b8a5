package cache

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/registry"
)

// Defaults, in one place.
const (
	DefaultShare       = 0.8
	DefaultMinMargin   = 5 * time.Minute
	DefaultBackoffBase = time.Second
	DefaultBackoffMax  = 5 * time.Minute
	DefaultTimeout     = 30 * time.Second
)

// Option configures New.
type Option func(*config)

type config struct {
	clk       clock.Clock
	share     float64
	margin    time.Duration
	base, max time.Duration
	timeout   time.Duration
	name      string
	log       *slog.Logger
	jitter    func(d time.Duration) time.Duration

	beforeStore func() // test hook
}

// WithClock sets the clock of this instance (default clock.Real{}). Tests pass a
// clock.Fake and move it instead of sleeping.
func WithClock(c clock.Clock) Option {
	return func(cfg *config) {
		if c != nil {
			cfg.clk = c
		}
	}
}

// WithShare sets the share of a value's lifetime after which it is refreshed, in (0, 1]
// (default 0.8). Other values keep the default.
func WithShare(share float64) Option {
	return func(c *config) {
		if share > 0 && share <= 1 {
			c.share = share
		}
	}
}

// WithMinMargin sets the least time before expiry at which a value is refreshed (default
// 5 minutes); the earlier of this and the share wins. Zero disables the margin.
func WithMinMargin(d time.Duration) Option {
	return func(c *config) {
		if d >= 0 {
			c.margin = d
		}
	}
}

// WithBackoff sets the retry back-off after a failed refresh: base doubles per consecutive
// failure up to max, each delay jittered into [d/2, d] (defaults 1 s and 5 minutes).
func WithBackoff(base, max time.Duration) Option {
	return func(c *config) {
		if base > 0 && max >= base {
			c.base, c.max = base, max
		}
	}
}

// WithTimeout bounds one upstream refresh (default 30 s).
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithName sets the registry name or server used in error texts and logs (never a secret).
func WithName(name string) Option { return func(c *config) { c.name = name } }

// WithLogger logs refresh failures (Warn) and refreshes (Debug). Default: no logging.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// withJitter replaces the random jitter; tests use it to pin delays.
func withJitter(f func(time.Duration) time.Duration) Option {
	return func(c *config) { c.jitter = f }
}

// withBeforeStore sets a function the refresh calls just before it stores its outcome;
// tests use it to land an Invalidate in that window.
func withBeforeStore(f func()) Option {
	return func(c *config) { c.beforeStore = f }
}

// entry is one immutable snapshot of the cache; it is replaced, never modified. Every time
// is kept twice: as a wall-clock time (t.Round(0)) and as time elapsed since cached.base,
// measured on the clock's monotonic reading when it has one. A value is fresh, or valid,
// only while both say so: the monotonic reading ignores wall-clock steps, the wall reading
// keeps counting while the machine is suspended (Linux pauses the monotonic clock then).
type entry struct {
	gen       uint64 // the Invalidate generation this entry belongs to
	creds     registry.Credentials
	has       bool          // creds is a fetched value (possibly expired by now)
	never     bool          // creds has no expiry
	refreshAt time.Time     // when has && !never: wall clock
	refreshIn time.Duration // refreshAt as time elapsed since cached.base
	expiresAt time.Time     // creds.ExpiresAt, wall clock
	expiresIn time.Duration // expiresAt as time elapsed since cached.base
	retryAt   time.Time     // after a failure: no upstream call before this (wall clock)
	failures  int           // consecutive failed refreshes
	cause     error         // the last refresh error
}

// fresh reports whether e holds a value not yet due for refresh at now (a clock reading),
// el being now's time since cached.base.
func (e *entry) fresh(now time.Time, el time.Duration) bool {
	return e.has && (e.never || (el < e.refreshIn && now.Round(0).Before(e.refreshAt)))
}

// valid reports whether e holds a value that has not expired at now.
func (e *entry) valid(now time.Time, el time.Duration) bool {
	return e.has && (e.never || (el < e.expiresIn && now.Round(0).Before(e.expiresAt)))
}

// cached is the Provider New returns.
type cached struct {
	p     registry.Provider
	cfg   config
	base  time.Time             // the clock at New; elapsed times are measured from it
	real  bool                  // cfg.clk is clock.Real: call time.Now directly
	cur   atomic.Pointer[entry] // never nil
	group singleflight.Group
}

var (
	_ registry.Provider    = (*cached)(nil)
	_ registry.Invalidator = (*cached)(nil)
	_ registry.Expirer     = (*cached)(nil)
	_ registry.Refresher   = (*cached)(nil)
)

// New wraps p in a refreshing cache (see the package rules). If p is already a cache it is
// returned as is and opts are ignored. The result implements registry.Invalidator and
// registry.Expirer and registry.Refresher (this package's rule is the one refresh rule:
// adapters wake at RefreshAt and call Credentials). It is safe for concurrent use.
func New(p registry.Provider, opts ...Option) registry.Provider {
	if c, ok := p.(*cached); ok {
		return c
	}
	cfg := config{
		clk: clock.Real{}, share: DefaultShare, margin: DefaultMinMargin,
		base: DefaultBackoffBase, max: DefaultBackoffMax, timeout: DefaultTimeout,
		jitter: func(d time.Duration) time.Duration { return d/2 + rand.N(d/2+1) },
	}
	for _, o := range opts {
		o(&cfg)
	}
	if p == nil {
		p = registry.ProviderFunc(func(context.Context) (registry.Credentials, error) {
			return registry.Credentials{}, fmt.Errorf("%w: cache.New was given a nil provider", registry.ErrInvalid)
		})
	}
	_, real := cfg.clk.(clock.Real)
	c := &cached{p: p, cfg: cfg, base: cfg.clk.Now(), real: real}
	c.cur.Store(&entry{})
	return c
}

// now reads the clock once: the time, and the time elapsed since c.base (on the monotonic
// reading when the clock gives one, as the real clock does).
func (c *cached) now() (time.Time, time.Duration) {
	var t time.Time
	if c.real {
		t = time.Now() // a direct call: the hot path's one clock read
	} else {
		t = c.cfg.clk.Now()
	}
	return t, t.Sub(c.base)
}

// IsCached reports whether p was made by New.
func IsCached(p registry.Provider) bool {
	_, ok := p.(*cached)
	return ok
}

// RefreshAt returns when a provider made by New plans its next refresh: zero when it holds
// no value (the next call fetches) or a value that never expires. ok is false for other
// providers. Adapters use it to schedule work, e.g. rewriting a pull Secret.
func RefreshAt(p registry.Provider) (t time.Time, ok bool) {
	c, ok := p.(*cached)
	if !ok {
		return time.Time{}, false
	}
	return c.RefreshAt(), true
}

// Credentials returns the cached value while it is fresh; otherwise it refreshes (one
// upstream call for all concurrent callers) and falls back to the old value while that is
// still valid.
func (c *cached) Credentials(ctx context.Context) (registry.Credentials, error) {
	e := c.cur.Load()
	if e.has && e.never {
		return e.creds, nil
	}
	if e.has {
		if now, el := c.now(); e.fresh(now, el) {
			return e.creds, nil
		}
	}
	return c.slow(ctx)
}

func (c *cached) slow(ctx context.Context) (registry.Credentials, error) {
	now, el := c.now()
	e := c.cur.Load()
	if e.fresh(now, el) {
		return e.creds, nil
	}
	if now.Round(0).Before(e.retryAt) { // backing off after a failure
		if e.valid(now, el) {
			return e.creds, nil
		}
		return registry.Credentials{}, c.failure(e, e.cause)
	}
	gen := e.gen
	ch := c.group.DoChan(strconv.FormatUint(gen, 10), func() (any, error) { return c.refresh(ctx, gen) })
	select {
	case res := <-ch:
		if res.Err == nil {
			return res.Val.(registry.Credentials), nil
		}
		e := c.cur.Load()
		if now, el := c.now(); e.valid(now, el) {
			return e.creds, nil
		}
		return registry.Credentials{}, c.failure(e, res.Err)
	case <-ctx.Done():
		e := c.cur.Load()
		if now, el := c.now(); e.valid(now, el) {
			return e.creds, nil
		}
		return registry.Credentials{}, &registry.Error{Op: "refresh", Registry: c.cfg.name,
			Err: fmt.Errorf("gave up waiting for new credentials (the refresh goes on in the background; retry later): %w: %w", registry.ErrUnavailable, ctx.Err())}
	}
}

// failure builds the error a caller gets when no valid value is left: an ExpiredError when
// the last value has expired, else the refresh error itself.
func (c *cached) failure(e *entry, cause error) error {
	if e.has && !e.never {
		return &registry.Error{Op: "refresh", Registry: c.cfg.name, Err: &ExpiredError{ExpiresAt: e.creds.ExpiresAt, Cause: cause}}
	}
	return c.wrap(cause)
}

// wrap makes cause a *registry.Error unless it already is one.
func (c *cached) wrap(cause error) error {
	if _, ok := cause.(*registry.Error); ok {
		return cause
	}
	return &registry.Error{Op: "refresh", Registry: c.cfg.name, Err: cause}
}

// refresh makes the one upstream call of a generation and stores its outcome, unless an
// Invalidate has started a new generation meanwhile (then the outcome is returned to the
// callers of this flight but never stored: it may be the value that was just rejected).
func (c *cached) refresh(ctx context.Context, gen uint64) (any, error) {
	// A caller that found the value due may start its flight just after another flight
	// stored a new value (singleflight forgets a key when its flight ends): look again
	// before calling upstream, and respect a back-off another flight just set.
	if e := c.cur.Load(); e.gen == gen {
		now, el := c.now()
		if e.fresh(now, el) {
			return e.creds, nil
		}
		if now.Round(0).Before(e.retryAt) {
			if e.valid(now, el) {
				return e.creds, nil
			}
			return nil, e.cause
		}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.timeout)
	defer cancel()
	start, startEl := c.now()
	creds, err := c.call(rctx)
	now, _ := c.now()
	if err == nil && !creds.ExpiresAt.IsZero() && !now.Round(0).Before(creds.ExpiresAt.Round(0)) {
		err = &registry.Error{Op: "refresh", Registry: c.cfg.name, Err: fmt.Errorf(
			"the token endpoint returned credentials that expired at %s (now %s): %w; check the clocks of this machine and of the endpoint",
			creds.ExpiresAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), registry.ErrExpired)}
	}
	if err != nil {
		err = c.wrap(err)
		var stored *entry
		if !c.store(gen, func(old *entry) *entry {
			next := *old
			next.failures, next.cause = old.failures+1, err
			next.retryAt = now.Round(0).Add(c.backoff(next.failures))
			stored = &next
			return stored
		}) {
			stored = nil
		}
		if c.cfg.log != nil {
			attrs := []slog.Attr{slog.String("registry", c.cfg.name), slog.String("error", err.Error())}
			if stored != nil {
				attrs = append(attrs, slog.Int("failures", stored.failures), slog.Time("retry_at", stored.retryAt))
				if _, el := c.now(); stored.valid(now, el) {
					attrs = append(attrs, slog.Time("serving_old_until", stored.expiresAt))
				}
			}
			c.cfg.log.LogAttrs(ctx, slog.LevelWarn, "credential refresh failed", attrs...)
		}
		return nil, err
	}
	next := &entry{gen: gen, creds: creds, has: true, never: creds.ExpiresAt.IsZero()}
	if !next.never {
		startWall := start.Round(0)
		next.expiresAt = creds.ExpiresAt.Round(0)
		next.expiresIn = startEl + next.expiresAt.Sub(startWall)
		next.refreshAt = c.refreshTime(startWall, next.expiresAt)
		next.refreshIn = startEl + next.refreshAt.Sub(startWall)
	}
	c.store(gen, func(*entry) *entry { return next })
	if c.cfg.log != nil {
		c.cfg.log.LogAttrs(ctx, slog.LevelDebug, "credentials refreshed", slog.String("registry", c.cfg.name),
			slog.Time("expires", creds.ExpiresAt), slog.Time("refresh_at", next.refreshAt))
	}
	return creds, nil
}

// store replaces the current entry with next(current) while the current entry belongs to
// generation gen, atomically (compare-and-swap): an Invalidate that lands at any point wins.
// It reports whether it stored.
func (c *cached) store(gen uint64, next func(old *entry) *entry) bool {
	if c.cfg.beforeStore != nil {
		c.cfg.beforeStore()
	}
	for {
		old := c.cur.Load()
		if old.gen != gen {
			return false
		}
		n := next(old)
		n.gen = gen
		if c.cur.CompareAndSwap(old, n) {
			return true
		}
	}
}

// call runs the upstream provider; a panic in it becomes an error (singleflight would
// otherwise re-panic it on a fresh goroutine and crash the process). The panic value is not
// quoted: it could hold anything.
func (c *cached) call(ctx context.Context) (creds registry.Credentials, err error) {
	defer func() {
		if r := recover(); r != nil {
			creds, err = registry.Credentials{}, fmt.Errorf("the credential provider panicked (%T): %w", r, registry.ErrUnavailable)
		}
	}()
	return c.p.Credentials(ctx)
}

// refreshTime is the earlier of start + share*lifetime and expiry - margin, ignoring a
// margin that falls at or before start.
func (c *cached) refreshTime(start, exp time.Time) time.Time {
	life := exp.Sub(start)
	at := start.Add(time.Duration(float64(life) * c.cfg.share))
	if m := exp.Add(-c.cfg.margin); c.cfg.margin > 0 && m.After(start) && m.Before(at) {
		at = m
	}
	return at
}

func (c *cached) backoff(failures int) time.Duration {
	d := c.cfg.base
	for i := 1; i < failures && d < c.cfg.max; i++ {
		d *= 2
	}
	if d > c.cfg.max {
		d = c.cfg.max
	}
	return c.cfg.jitter(d)
}

// Invalidate drops the cached value and any back-off, so the next call refreshes. Call it
// when the registry answered 401 with these credentials.
func (c *cached) Invalidate() {
	for {
		old := c.cur.Load()
		if c.cur.CompareAndSwap(old, &entry{gen: old.gen + 1}) {
			return
		}
	}
}

// ExpiresAt returns the expiry of the value held (zero when none is held or it never
// expires). It never calls upstream.
func (c *cached) ExpiresAt() time.Time {
	if e := c.cur.Load(); e.has {
		return e.creds.ExpiresAt
	}
	return time.Time{}
}

// RefreshAt returns when the next Credentials call goes upstream: when the held value is
// due for refresh, or, after a failed refresh, when the back-off ends (a caller that woke
// earlier would get the old value again). Zero when none is held or it never expires.
func (c *cached) RefreshAt() time.Time {
	e := c.cur.Load()
	if !e.has || e.never {
		return time.Time{}
	}
	if e.retryAt.After(e.refreshAt) {
		return e.retryAt
	}
	return e.refreshAt
}

// GoString redacts for %#v (the struct holds credentials).
func (c *cached) GoString() string { return "cache.New(" + c.String() + ")" }

// String names the cache without secrets.
func (c *cached) String() string {
	if c.cfg.name == "" {
		return "cached provider"
	}
	return "cached provider for " + c.cfg.name
}
