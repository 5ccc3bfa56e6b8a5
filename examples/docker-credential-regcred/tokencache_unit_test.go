package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/regcred/regcred/registry"
)

// countingProvider hands out numbered tokens that expire after life, or fails.
type countingProvider struct {
	n    int
	life time.Duration
	now  func() time.Time
	err  error
}

func (p *countingProvider) Credentials(context.Context) (registry.Credentials, error) {
	if p.err != nil {
		return registry.Credentials{}, p.err
	}
	p.n++
	return registry.Credentials{Username: "AWS", Password: registry.Secret(token(p.n)), ExpiresAt: p.now().Add(p.life)}, nil
}

// The disk cache's clock rules, in process with a moved clock: served until the refresh
// point, the old value served while valid when the refresh fails, never past expiry, and
// a clock that went back makes the entry due.
func TestTokenCacheClock(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	c := openTokenCache(filepath.Join(t.TempDir(), "registries.yaml"))
	if c == nil {
		t.Fatal("no cache")
	}
	c.now = clock
	p := &countingProvider{life: 10 * time.Hour, now: clock}
	d := &diskCached{open: func() *tokenCache { return c }, r: registry.Registry{ID: "x", Kind: registry.KindECR, Version: 1}, inner: p}
	get := func() (string, error) {
		creds, err := d.Credentials(context.Background())
		return creds.Password.Reveal(), err
	}
	step := func(name string, advance time.Duration, fail error, want string, wantErr bool) {
		t.Helper()
		now = now.Add(advance)
		p.err = fail
		got, err := get()
		if (err != nil) != wantErr || got != want {
			t.Errorf("%s: %q, %v; want %q (error %t)", name, got, err, want, wantErr)
		}
	}
	down := errors.New("endpoint down")
	step("first", 0, nil, token(1), false)
	step("fresh", 7*time.Hour, nil, token(1), false)                                      // before 80% of 10 h
	step("due, refresh fails: old value", 1*time.Hour+time.Minute, down, token(1), false) // 8 h 1 m: due, valid
	step("due: refreshed", 0, nil, token(2), false)
	step("clock went back 2 h: due", -2*time.Hour, nil, token(3), false)
	step("past expiry, refresh fails: error", 11*time.Hour, down, "", true)
	if _, err := os.Stat(c.path(d.r)); err != nil {
		t.Errorf("no cache file: %v", err)
	}
}
