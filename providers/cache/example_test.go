package cache_test

import (
	"context"
	"fmt"
	"time"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/providers/cache"
	"github.com/regcred/regcred/registry"
)

// A 12-hour token is fetched once, served from the cache, and refreshed after 80% of its
// life; the fake clock stands in for time passing.
func ExampleNew() {
	clk := clock.NewFake(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC))
	calls := 0
	upstream := registry.ProviderFunc(func(context.Context) (registry.Credentials, error) {
		calls++
		return registry.Credentials{Username: "AWS", Password: "token", ExpiresAt: clk.Now().Add(12 * time.Hour)}, nil
	})
	p := cache.New(upstream, cache.WithClock(clk), cache.WithName("prod-ecr"))
	ctx := context.Background()

	c, _ := p.Credentials(ctx)
	fmt.Println(c)
	clk.Advance(9 * time.Hour)
	p.Credentials(ctx)
	fmt.Println("upstream calls after 9h:", calls)
	clk.Advance(time.Hour)
	c, _ = p.Credentials(ctx)
	fmt.Println("upstream calls after 10h:", calls, "expires", c.ExpiresAt.Format(time.Kitchen))
	at, _ := cache.RefreshAt(p)
	fmt.Println("next refresh:", at.Format(time.DateTime))
	// Output:
	// credentials{user=AWS password=REDACTED expires=2026-03-06T12:00:00Z}
	// upstream calls after 9h: 1
	// upstream calls after 10h: 2 expires 10:00PM
	// next refresh: 2026-03-06 19:36:00
}
