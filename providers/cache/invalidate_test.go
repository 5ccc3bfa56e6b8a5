package cache

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// A caller's 401 Invalidate lands while a refresh that started before it is about to store
// its outcome. Whatever that refresh stores would be the value just rejected (the old
// token kept after a failed refresh, or a token fetched before the revocation): the
// Invalidate must win, so the next call goes upstream.
func TestInvalidateRacingRefresh(t *testing.T) {
	for _, tt := range []struct {
		name    string
		failing bool // the racing refresh fails, keeping the old token
	}{
		{"failed refresh keeps the old token", true},
		{"successful refresh from before the invalidate", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			up := &upstream{clk: clk, life: time.Hour}
			var armed, fired atomic.Bool
			var p *cached
			p = New(up, WithClock(clk), withJitter(identity), withBeforeStore(func() {
				if armed.Load() && fired.CompareAndSwap(false, true) {
					p.Invalidate()
				}
			})).(*cached)
			ctx := context.Background()
			old, err := p.Credentials(ctx)
			if err != nil {
				t.Fatal(err)
			}
			clk.Advance(50 * time.Minute) // due, still valid
			if tt.failing {
				up.setErr(errors.New("endpoint down"))
			}
			armed.Store(true)
			raced, _ := p.Credentials(ctx) // this caller started before the Invalidate: either answer is fine
			if !fired.Load() {
				t.Fatal("the refresh stored nothing: the test hook never ran")
			}
			up.setErr(nil)
			calls := up.calls.Load()
			got, err := p.Credentials(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if up.calls.Load() != calls+1 {
				t.Fatalf("after Invalidate the next call made %d upstream calls, want 1 (it served a value stored by the refresh the Invalidate overtook)", up.calls.Load()-calls)
			}
			if got.Password == old.Password || got.Password == raced.Password {
				t.Fatal("after Invalidate the cache served the value that was just rejected")
			}
		})
	}
}

// Invalidate and refreshes from many goroutines: run with -race; every answer is a value the
// upstream issued, and once the storm ends one Invalidate makes the next call refresh.
func TestInvalidateStorm(t *testing.T) {
	clk := newClock()
	up := &upstream{clk: clk, life: time.Hour}
	p := New(up, WithClock(clk)).(*cached)
	ctx := context.Background()
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 200 {
				if i%7 == 0 {
					p.Invalidate()
				}
				if c, err := p.Credentials(ctx); err != nil || c.Password == "" {
					t.Errorf("got %v, %v", c, err)
					return
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
	p.Invalidate()
	calls := up.calls.Load()
	p.Credentials(ctx)
	if up.calls.Load() != calls+1 {
		t.Fatal("the call after the last Invalidate did not refresh")
	}
}
