package clock_test

import (
	"context"
	"fmt"
	"time"

	"github.com/regcred/regcred/clock"
)

// A test drives code that waits: it waits until the code has armed its timer, then moves
// the fake clock instead of sleeping.
func ExampleFake() {
	f := clock.NewFake(time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()

	done := make(chan time.Time)
	go func() {
		// The code under test: wait five minutes, then report the time.
		_ = clock.Sleep(ctx, f, 5*time.Minute)
		done <- f.Now()
	}()

	_ = f.BlockUntil(ctx, 1) // the code is now waiting
	f.Advance(5 * time.Minute)
	fmt.Println((<-done).Format(time.TimeOnly))
	// Output: 12:05:00
}

// Code takes a Clock and defaults to the system clock.
func ExampleReal() {
	var c clock.Clock = clock.Real{}
	t := c.NewTimer(time.Millisecond)
	<-t.C()
	fmt.Println("fired")
	// Output: fired
}
