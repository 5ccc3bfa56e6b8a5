package fanout_test

import (
	"context"
	"testing"
	"time"

	"github.com/regcred/regcred/internal/fanout"
	"github.com/regcred/regcred/registry"
)

// A subscriber that falls more than the backlog behind gets a ChangeResync in place of
// what it missed, then the changes after; Publish never blocks.
func TestFeedBacklogResync(t *testing.T) {
	f := fanout.NewFeed(4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := f.Subscribe(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for v := int64(1); v <= 10; v++ {
			f.Publish(registry.Change{Op: registry.ChangePut, ID: "a", Version: v})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a subscriber that does not read")
	}
	var got []registry.Change
	for len(got) == 0 || got[len(got)-1].Version != 10 {
		select {
		case c := <-ch:
			got = append(got, c)
		case <-time.After(10 * time.Second):
			t.Fatalf("the last change did not arrive; got %+v", got)
		}
	}
	last, resyncs := int64(0), 0
	for _, c := range got {
		if c.Op == registry.ChangeResync {
			resyncs++
			continue
		}
		if c.Version <= last {
			t.Fatalf("out of order: %+v", got)
		}
		last = c.Version
	}
	if resyncs == 0 || len(got) > 4+resyncs+1 {
		t.Fatalf("10 changes into a backlog of 4 gave %+v; want a resync in place of the dropped ones", got)
	}
	f.Close()
	select {
	case _, open := <-ch:
		if open {
			t.Fatal("a change after Close")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close left the subscription open")
	}
	if ch := f.Subscribe(context.Background()); ch != nil {
		if _, open := <-ch; open {
			t.Fatal("a subscription after Close is open")
		}
	}
}
