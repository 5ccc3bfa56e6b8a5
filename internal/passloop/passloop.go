package passloop

import (
	"context"
	"time"

	"github.com/regcred/regcred/clock"
)

// Run runs pass at once and then whenever an event arrives on events (nil: none; a closed
// channel stops counting) or the wait pass returned has passed on clk, until ctx is done.
func Run[E any](ctx context.Context, clk clock.Clock, events <-chan E, pass func(context.Context) time.Duration) {
	for {
		wait := pass(ctx)
		if ctx.Err() != nil {
			return
		}
		timer := clk.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case _, ok := <-events:
			if !ok {
				events = nil
			}
		case <-timer.C():
		}
		timer.Stop()
	}
}

// Until is the wait from now until next, at least least and at most poll; poll when next
// is zero (nothing is due).
func Until(clk clock.Clock, next time.Time, poll, least time.Duration) time.Duration {
	if next.IsZero() {
		return poll
	}
	return min(max(next.Sub(clk.Now()), least), poll)
}
