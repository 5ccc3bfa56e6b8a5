package passloop_test

import (
	"context"
	"fmt"
	"time"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/internal/passloop"
)

// A pass runs at once, on every event, and when the wait it returned has passed.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	events := make(chan struct{})
	ran := make(chan string)
	done := make(chan struct{})
	go func() {
		defer close(done)
		passloop.Run(ctx, clk, events, func(context.Context) time.Duration {
			ran <- clk.Now().Format("15:04")
			return time.Hour
		})
	}()
	fmt.Println("at once:", <-ran)
	events <- struct{}{}
	fmt.Println("on an event:", <-ran)
	_ = clk.BlockUntil(ctx, 1)
	clk.Advance(time.Hour)
	fmt.Println("when due:", <-ran)
	_ = clk.BlockUntil(ctx, 1)
	cancel()
	<-done
	fmt.Println("timers left:", clk.Waiters())
	// Output:
	// at once: 00:00
	// on an event: 00:00
	// when due: 01:00
	// timers left: 0
}
