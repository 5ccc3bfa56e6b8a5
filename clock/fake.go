package clock

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Fake is a Clock that moves only when told to (Advance, Set). Create it with NewFake.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	armed   []*fakeTimer  // armed timers, in no particular order
	changed chan struct{} // closed and replaced whenever armed grows
}

// NewFake returns a Fake clock reading t (without its monotonic reading).
func NewFake(t time.Time) *Fake {
	return &Fake{now: t.Round(0), changed: make(chan struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a Timer that fires when the clock is moved to or past now+d; with d <= 0
// it fires at once.
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{f: f, c: make(chan time.Time, 1)}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.arm(t, d)
	return t
}

// Advance moves the clock forward by d, firing every timer that falls due on the way in
// deadline order (each sees Now at its deadline while it fires). A negative d is ignored.
func (f *Fake) Advance(d time.Duration) {
	if d < 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.moveTo(f.now.Add(d))
}

// Set moves the clock to t. Forward, it fires the timers that fall due as Advance does;
// backward (a wall-clock jump), no timer fires and armed timers keep their deadlines.
func (f *Fake) Set(t time.Time) {
	t = t.Round(0)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !t.After(f.now) {
		f.now = t
		return
	}
	f.moveTo(t)
}

// moveTo (with f.mu held) moves the clock forward to target, firing the timers due on the way.
func (f *Fake) moveTo(target time.Time) {
	for {
		i := f.next()
		if i < 0 || f.armed[i].when.After(target) {
			break
		}
		t := f.armed[i]
		f.armed = slices.Delete(f.armed, i, i+1)
		if t.when.After(f.now) {
			f.now = t.when
		}
		t.fire()
	}
	if target.After(f.now) {
		f.now = target
	}
}

// next returns the index of the armed timer with the earliest deadline, or -1.
func (f *Fake) next() int {
	best := -1
	for i, t := range f.armed {
		if best < 0 || t.when.Before(f.armed[best].when) {
			best = i
		}
	}
	return best
}

// Waiters returns how many timers are armed.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.armed)
}

// BlockUntil waits until at least n timers are armed, or ctx is done (then it returns ctx's
// error). Tests call it before Advance so they know the code under test is waiting.
func (f *Fake) BlockUntil(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		have, changed := len(f.armed), f.changed
		f.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// NextDeadline returns the earliest deadline of the armed timers; ok is false when none is
// armed. Tests use it to advance exactly to the next event.
func (f *Fake) NextDeadline() (t time.Time, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i := f.next(); i >= 0 {
		return f.armed[i].when, true
	}
	return time.Time{}, false
}

// arm (with f.mu held) sets t to fire at now+d, firing it at once when d <= 0.
func (f *Fake) arm(t *fakeTimer, d time.Duration) {
	t.when = f.now.Add(d)
	if d <= 0 {
		t.fire()
		return
	}
	f.armed = append(f.armed, t)
	close(f.changed)
	f.changed = make(chan struct{})
}

// disarm (with f.mu held) removes t from the armed timers and reports whether it was armed.
func (f *Fake) disarm(t *fakeTimer) bool {
	i := slices.Index(f.armed, t)
	if i < 0 {
		return false
	}
	f.armed = slices.Delete(f.armed, i, i+1)
	return true
}

type fakeTimer struct {
	f    *Fake
	c    chan time.Time // capacity 1
	when time.Time      // guarded by f.mu
}

// fire (with f.mu held) sends the deadline; the channel is drained on Stop and Reset, so it
// always has room.
func (t *fakeTimer) fire() {
	select {
	case t.c <- t.when:
	default:
	}
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	t.drain()
	return t.f.disarm(t)
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	t.drain()
	was := t.f.disarm(t)
	t.f.arm(t, d)
	return was
}

func (t *fakeTimer) drain() {
	select {
	case <-t.c:
	default:
	}
}
