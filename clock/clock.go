package clock

import (
	"context"
	"time"
)

// Clock tells the time and makes timers. Implementations are safe for concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a Timer that sends the time on its channel once d has passed.
	NewTimer(d time.Duration) Timer
}

// Timer is a single event, as time.Timer.
type Timer interface {
	// C returns the channel the time is sent on when the timer fires.
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it stopped an armed timer.
	// After Stop no value is received from C.
	Stop() bool
	// Reset arms the timer to fire after d; it reports whether the timer was armed. After
	// Reset no value from the earlier arming is received from C.
	Reset(d time.Duration) bool
}

// Real is the system clock (time.Now and time.NewTimer). Its zero value is ready to use.
type Real struct{}

var (
	_ Clock = Real{}
	_ Clock = (*Fake)(nil)
)

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// NewTimer returns a Timer backed by time.NewTimer.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

// Or returns c, or Real{} when c is nil; options use it to keep the default in one place.
func Or(c Clock) Clock {
	if c == nil {
		return Real{}
	}
	return c
}

// Sleep waits until d has passed on c or ctx is done, and returns ctx's error in the latter
// case. A d of zero or less returns at once (with ctx's error if it is already done).
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}
