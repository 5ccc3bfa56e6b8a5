package clock

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 6, 2, 14, 19, 0, time.UTC)

// received returns the value waiting on c, if any, without blocking.
func received(c <-chan time.Time) (time.Time, bool) {
	select {
	case v := <-c:
		return v, true
	default:
		return time.Time{}, false
	}
}

func TestFakeNowAdvanceSet(t *testing.T) {
	f := NewFake(time.Now()) // a monotonic reading is dropped
	if s := f.Now().String(); len(s) > 0 && containsMono(s) {
		t.Fatalf("Now() = %s, want no monotonic reading", s)
	}
	f = NewFake(t0)
	if got := f.Now(); !got.Equal(t0) {
		t.Fatalf("Now() = %v, want %v", got, t0)
	}
	f.Advance(90 * time.Second)
	if got, want := f.Now(), t0.Add(90*time.Second); !got.Equal(want) {
		t.Fatalf("after Advance: %v, want %v", got, want)
	}
	f.Advance(-time.Hour)
	if got, want := f.Now(), t0.Add(90*time.Second); !got.Equal(want) {
		t.Fatalf("a negative Advance moved the clock to %v", got)
	}
	f.Set(t0.Add(-time.Hour))
	if got, want := f.Now(), t0.Add(-time.Hour); !got.Equal(want) {
		t.Fatalf("after Set backward: %v, want %v", got, want)
	}
}

func containsMono(s string) bool {
	for i := 0; i+3 <= len(s); i++ {
		if s[i:i+3] == "m=+" || s[i:i+3] == "m=-" {
			return true
		}
	}
	return false
}

func TestFakeTimerFiresAtDeadline(t *testing.T) {
	f := NewFake(t0)
	tm := f.NewTimer(time.Minute)
	f.Advance(59 * time.Second)
	if v, ok := received(tm.C()); ok {
		t.Fatalf("fired early, at %v", v)
	}
	f.Advance(time.Second)
	v, ok := received(tm.C())
	if !ok {
		t.Fatal("did not fire at its deadline")
	}
	if want := t0.Add(time.Minute); !v.Equal(want) {
		t.Fatalf("sent %v, want its deadline %v", v, want)
	}
	if tm.Stop() {
		t.Fatal("Stop after firing reported an armed timer")
	}
	if f.Waiters() != 0 {
		t.Fatalf("Waiters() = %d after firing, want 0", f.Waiters())
	}
}

func TestFakeAdvanceFiresInDeadlineOrder(t *testing.T) {
	f := NewFake(t0)
	var mu sync.Mutex
	var order []time.Duration
	var wg sync.WaitGroup
	durations := []time.Duration{3 * time.Minute, time.Minute, 2 * time.Minute}
	timers := make([]Timer, len(durations))
	for i, d := range durations {
		timers[i] = f.NewTimer(d)
	}
	// Each timer's value is its own deadline, whatever order the receivers run in.
	f.Advance(10 * time.Minute)
	for i, d := range durations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := <-timers[i].C()
			mu.Lock()
			order = append(order, v.Sub(t0))
			mu.Unlock()
			if v.Sub(t0) != d {
				t.Errorf("timer %v sent %v", d, v.Sub(t0))
			}
		}()
	}
	wg.Wait()
	if len(order) != 3 {
		t.Fatalf("%d timers fired, want 3", len(order))
	}
	if got, want := f.Now(), t0.Add(10*time.Minute); !got.Equal(want) {
		t.Fatalf("Now() = %v after Advance, want %v", got, want)
	}
}

func TestFakeAdvanceStepsThroughDeadlines(t *testing.T) {
	// A receiver that reads Now() when its timer fires may see any time from the deadline on,
	// but the clock passes each deadline in order: NextDeadline walks them.
	f := NewFake(t0)
	f.NewTimer(2 * time.Minute)
	f.NewTimer(time.Minute)
	next, ok := f.NextDeadline()
	if !ok || !next.Equal(t0.Add(time.Minute)) {
		t.Fatalf("NextDeadline() = %v, %v; want %v", next, ok, t0.Add(time.Minute))
	}
	f.Set(next)
	next, ok = f.NextDeadline()
	if !ok || !next.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("after the first fired NextDeadline() = %v, %v", next, ok)
	}
	f.Advance(time.Minute)
	if _, ok := f.NextDeadline(); ok {
		t.Fatal("NextDeadline reports a timer after all fired")
	}
}

func TestFakeTimerStop(t *testing.T) {
	f := NewFake(t0)
	tm := f.NewTimer(time.Minute)
	if !tm.Stop() {
		t.Fatal("Stop on an armed timer reported false")
	}
	if tm.Stop() {
		t.Fatal("a second Stop reported true")
	}
	f.Advance(time.Hour)
	if v, ok := received(tm.C()); ok {
		t.Fatalf("a stopped timer fired at %v", v)
	}
}

func TestFakeTimerStopDropsStaleValue(t *testing.T) {
	f := NewFake(t0)
	tm := f.NewTimer(time.Minute)
	f.Advance(time.Minute) // fired, value not read
	tm.Stop()
	if v, ok := received(tm.C()); ok {
		t.Fatalf("a stale value %v was received after Stop (Go 1.23 timers never do that)", v)
	}
}

func TestFakeTimerReset(t *testing.T) {
	f := NewFake(t0)
	tm := f.NewTimer(time.Minute)
	if !tm.Reset(5 * time.Minute) {
		t.Fatal("Reset of an armed timer reported false")
	}
	f.Advance(time.Minute)
	if _, ok := received(tm.C()); ok {
		t.Fatal("fired at the old deadline after Reset")
	}
	f.Advance(4 * time.Minute)
	v, ok := received(tm.C())
	if !ok || !v.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("after Reset got %v, %v; want %v", v, ok, t0.Add(5*time.Minute))
	}
	// Reset of a fired timer re-arms it and reports false; a value left unread is dropped.
	f.Advance(time.Minute)
	tm2 := f.NewTimer(time.Second)
	f.Advance(time.Second)
	if tm2.Reset(time.Minute) {
		t.Fatal("Reset of a fired timer reported true")
	}
	if _, ok := received(tm2.C()); ok {
		t.Fatal("the value of the earlier arming was received after Reset")
	}
	f.Advance(time.Minute)
	if _, ok := received(tm2.C()); !ok {
		t.Fatal("the re-armed timer did not fire")
	}
}

func TestFakeTimerNonPositiveFiresAtOnce(t *testing.T) {
	f := NewFake(t0)
	for _, d := range []time.Duration{0, -time.Second} {
		tm := f.NewTimer(d)
		if _, ok := received(tm.C()); !ok {
			t.Errorf("NewTimer(%v) did not fire at once", d)
		}
	}
	if f.Waiters() != 0 {
		t.Fatalf("Waiters() = %d, want 0", f.Waiters())
	}
}

func TestFakeSetBackwardFiresNothing(t *testing.T) {
	f := NewFake(t0)
	tm := f.NewTimer(time.Minute)
	f.Set(t0.Add(-time.Hour))
	if _, ok := received(tm.C()); ok {
		t.Fatal("a backward Set fired a timer")
	}
	// The deadline stays where it was on the fake timeline.
	f.Set(t0.Add(time.Minute))
	if _, ok := received(tm.C()); !ok {
		t.Fatal("the timer did not fire at its deadline after a backward jump")
	}
}

func TestBlockUntil(t *testing.T) {
	f := NewFake(t0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Sleep(ctx, f, time.Hour) }()
	if err := f.BlockUntil(ctx, 1); err != nil {
		t.Fatalf("BlockUntil: %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("Sleep returned %v before the clock moved", err)
	default:
	}
	f.Advance(time.Hour)
	if err := <-done; err != nil {
		t.Fatalf("Sleep: %v", err)
	}
	if f.Waiters() != 0 {
		t.Fatalf("Waiters() = %d after the sleep, want 0", f.Waiters())
	}
}

func TestBlockUntilGivesUpWithCtx(t *testing.T) {
	f := NewFake(t0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := f.BlockUntil(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("BlockUntil with no timer = %v, want context.DeadlineExceeded", err)
	}
}

func TestSleepCancelled(t *testing.T) {
	f := NewFake(t0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Sleep(ctx, f, time.Hour) }()
	if err := f.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep after cancel = %v, want context.Canceled", err)
	}
	if f.Waiters() != 0 {
		t.Fatalf("a cancelled Sleep left %d timers armed", f.Waiters())
	}
	if err := Sleep(ctx, f, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep(0) on a done ctx = %v", err)
	}
}

func TestReal(t *testing.T) {
	var c Clock = Real{}
	before := time.Now()
	if now := c.Now(); now.Before(before) {
		t.Fatalf("Real.Now() = %v, before %v", now, before)
	}
	tm := c.NewTimer(time.Millisecond)
	select {
	case <-tm.C():
	case <-time.After(10 * time.Second):
		t.Fatal("a real 1 ms timer did not fire within 10 s")
	}
	tm = c.NewTimer(time.Hour)
	if !tm.Stop() {
		t.Fatal("Stop of an armed real timer reported false")
	}
	if tm.Reset(time.Hour) {
		t.Fatal("Reset of a stopped real timer reported true")
	}
	tm.Stop()
	if err := Sleep(context.Background(), c, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if Or(nil) != (Real{}) {
		t.Fatal("Or(nil) is not Real{}")
	}
	f := NewFake(t0)
	if Or(f) != Clock(f) {
		t.Fatal("Or(f) is not f")
	}
}

func TestFakeConcurrent(t *testing.T) {
	// Many goroutines sleep on the fake clock while others move it: run with -race.
	f := NewFake(t0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := Sleep(ctx, f, time.Duration(i+1)*time.Second); err != nil {
				t.Error(err)
			}
			_ = f.Now()
		}()
	}
	if err := f.BlockUntil(ctx, n); err != nil {
		t.Fatal(err)
	}
	var movers sync.WaitGroup
	for range 4 {
		movers.Add(1)
		go func() {
			defer movers.Done()
			for range 20 {
				f.Advance(time.Second)
			}
		}()
	}
	movers.Wait()
	wg.Wait()
	if got, want := f.Now(), t0.Add(80*time.Second); !got.Equal(want) {
		t.Fatalf("Now() = %v, want %v", got, want)
	}
}
