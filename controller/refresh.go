package controller

import (
	"context"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/clock"
)

// earliest returns the earlier of a and t, ignoring zero times.
func earliest(a, t time.Time) time.Time {
	if t.IsZero() || (!a.IsZero() && a.Before(t)) {
		return a
	}
	return t
}

// passLoop runs pass at once, on every change of cat, when next() falls due (at least a
// second later) and every poll period, until ctx is done. A failed pass goes to failed
// (while ctx is live) and is retried at the next wake-up. It is the loop of the
// per-host refreshers (DockerConfigFile, Swarm).
func passLoop(ctx context.Context, cat *catalog.Catalog, clk clock.Clock, poll time.Duration,
	pass func(context.Context) error, next func() time.Time, failed func(error)) error {
	events := cat.Subscribe(ctx)
	for {
		if err := pass(ctx); err != nil && ctx.Err() == nil {
			failed(err)
		}
		wait := poll
		if n := next(); !n.IsZero() {
			if w := n.Sub(clk.Now()); w < wait {
				wait = max(w, time.Second)
			}
		}
		timer := clk.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case _, ok := <-events:
			if !ok {
				events = nil
			}
		case <-timer.C():
		}
		timer.Stop()
	}
}
