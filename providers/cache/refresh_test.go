package cache

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/regcred/regcred/registry"
)

// The cache is the one home of the refresh rule: a consumer that wakes at RefreshAt and
// calls Credentials gets a new value (one upstream call), never the old one again; after a
// failed refresh RefreshAt moves to the end of the back-off, so a consumer that follows it
// does not spin on the old value.
func TestRefreshAtIsWhenTheNextCallGoesUpstream(t *testing.T) {
	clk := newClock()
	up := &upstream{clk: clk, life: time.Hour}
	p := New(up, WithClock(clk), withJitter(identity), WithBackoff(time.Minute, 30*time.Minute))
	ctx := context.Background()
	first, err := p.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := registry.RefreshAt(p, first)
	if want := clk.Now().Add(48 * time.Minute); !at.Equal(want) {
		t.Fatalf("RefreshAt = %v, want %v (0.8 of an hour)", at, want)
	}
	clk.Advance(at.Sub(clk.Now()) - time.Second)
	if c, _ := p.Credentials(ctx); c.Password != first.Password || up.calls.Load() != 1 {
		t.Fatalf("a call before RefreshAt went upstream (calls %d)", up.calls.Load())
	}
	clk.Advance(time.Second)
	up.setErr(fmt.Errorf("token endpoint answered 503: %w", registry.ErrUnavailable))
	if c, err := p.Credentials(ctx); err != nil || c.Password != first.Password || up.calls.Load() != 2 {
		t.Fatalf("at RefreshAt with a failing endpoint: calls %d, %v, %v (want the old value after one upstream call)", up.calls.Load(), c, err)
	}
	retry := registry.RefreshAt(p, first)
	if want := clk.Now().Add(time.Minute); !retry.Equal(want) {
		t.Fatalf("RefreshAt after a failure = %v, want the end of the back-off %v", retry, want)
	}
	up.setErr(nil)
	clk.Advance(retry.Sub(clk.Now()))
	next, err := p.Credentials(ctx)
	if err != nil || next.Password == first.Password || up.calls.Load() != 3 {
		t.Fatalf("at the new RefreshAt: calls %d, %v, %v (want a new value)", up.calls.Load(), next, err)
	}
}

// A provider that does not cache is due at its credentials' expiry: it fetches on every call.
func TestRefreshAtWithoutCache(t *testing.T) {
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := registry.Credentials{Username: "u", Password: "p", ExpiresAt: exp}
	if got := registry.RefreshAt(registry.Static(c), c); !got.Equal(exp) {
		t.Fatalf("RefreshAt = %v, want %v", got, exp)
	}
	if got := registry.RefreshAt(registry.Static(registry.Credentials{}), registry.Credentials{}); !got.IsZero() {
		t.Fatalf("RefreshAt of credentials that never expire = %v, want zero", got)
	}
}
