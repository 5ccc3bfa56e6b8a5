package kube

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/internal/passloop"
	"github.com/regcred/regcred/registry"
)

// Refresher defaults.
const (
	// DefaultResync is how often a Refresher re-syncs when no credential expires.
	DefaultResync = 10 * time.Minute
	// DefaultMinBackoff and DefaultMaxBackoff bound the wait after a failed pass.
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 5 * time.Minute
	// minWait keeps a Refresher from spinning when credentials are about to expire.
	minWait = time.Second
)

// Refresher keeps the Secrets of expiring credentials fresh: it runs a Syncer pass, then
// sleeps until the earliest credentials are due (Result.RefreshAt: when their provider's
// next call fetches anew, by the refreshing cache's one rule; jittered by ±10%, so
// replicas do not stampede), and runs again. A pass with failures is
// retried with exponential back-off, capped by half the remaining lifetime of what the
// Secrets hold. Because a Syncer leaves the Secret of a registry whose
// credentials failed exactly as it was, a failed refresh never deletes or blanks a working
// Secret.
type Refresher struct {
	syncer     *Syncer
	source     func(ctx context.Context) ([]registry.Registry, []string, error)
	clock      clock.Clock
	resync     time.Duration
	minBackoff time.Duration
	maxBackoff time.Duration
	jitter     func() float64 // in [0, 1)
	onPass     func(*Result, error)

	failures int
}

// RefresherOption configures NewRefresher.
type RefresherOption func(*Refresher)

// WithResync sets how often to re-sync when no credential expires (default 10 minutes).
func WithResync(d time.Duration) RefresherOption {
	return func(r *Refresher) {
		if d > 0 {
			r.resync = d
		}
	}
}

// WithBackoff sets the first and the longest wait after a failed pass (default 1 s, 5 min).
func WithBackoff(min, max time.Duration) RefresherOption {
	return func(r *Refresher) {
		if min > 0 && max >= min {
			r.minBackoff, r.maxBackoff = min, max
		}
	}
}

// WithRefresherClock sets the clock the Refresher reads and waits on (default
// clock.Real{}); tests pass a clock.Fake and move it. (WithClock sets the Syncer's.)
func WithRefresherClock(c clock.Clock) RefresherOption {
	return func(r *Refresher) {
		if c != nil {
			r.clock = c
		}
	}
}

// WithJitter sets the random source of the jitter, a function returning [0, 1) (default
// math/rand/v2).
func WithJitter(f func() float64) RefresherOption {
	return func(r *Refresher) {
		if f != nil {
			r.jitter = f
		}
	}
}

// OnPass sets a function called after every pass with its result and error (for metrics or
// logs); it must not block.
func OnPass(f func(*Result, error)) RefresherOption { return func(r *Refresher) { r.onPass = f } }

// NewRefresher returns a Refresher that syncs with s what source returns: the registries and
// target namespaces, read anew before every pass (from a Catalog, a file, a database).
func NewRefresher(s *Syncer, source func(ctx context.Context) ([]registry.Registry, []string, error), opts ...RefresherOption) *Refresher {
	r := &Refresher{
		syncer: s, source: source, clock: clock.Real{},
		resync: DefaultResync, minBackoff: DefaultMinBackoff, maxBackoff: DefaultMaxBackoff,
		jitter: rand.Float64,
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Run refreshes until ctx is done (passloop: each pass's wait is Step's), and returns
// ctx's error.
func (r *Refresher) Run(ctx context.Context) error {
	passloop.Run[struct{}](ctx, r.clock, nil, func(ctx context.Context) time.Duration {
		_, wait, _ := r.Step(ctx)
		return wait
	})
	return ctx.Err()
}

// Step runs one pass and returns its result, how long to wait before the next one, and its
// error (the pass's, or the joined failures of its result).
func (r *Refresher) Step(ctx context.Context) (*Result, time.Duration, error) {
	regs, namespaces, err := r.source(ctx)
	var res *Result
	if err == nil {
		res, err = r.syncer.Sync(ctx, regs, namespaces)
	}
	if err == nil {
		err = res.Err()
	}
	if r.onPass != nil {
		r.onPass(res, err)
	}
	now := r.clock.Now()
	var wait time.Duration
	if err != nil {
		r.failures++
		wait = r.minBackoff << min(r.failures-1, 30)
		if wait > r.maxBackoff || wait <= 0 {
			wait = r.maxBackoff
		}
		// Retry well before the credentials still in the Secrets expire.
		if res != nil && !res.ExpiresAt.IsZero() {
			if half := res.ExpiresAt.Sub(now) / 2; half < wait {
				wait = half
			}
		}
	} else {
		r.failures = 0
		wait = r.resync
		if next := res.RefreshAt; !next.IsZero() && next.Sub(now) < wait {
			wait = next.Sub(now)
		}
	}
	// Jitter ±10%, never below minWait. A pass woken before its provider is due reads the
	// same credentials and writes nothing; the next wait is then the short rest.
	wait = time.Duration(float64(wait) * (0.9 + 0.2*r.jitter()))
	if wait < minWait {
		wait = minWait
	}
	return res, wait, err
}
