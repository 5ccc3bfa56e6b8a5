package feed

import (
	"context"
	"testing"
	"time"

	"github.com/regcred/regcred/registry"
)

func put(id string, v int64) registry.Change {
	return registry.Change{Op: registry.ChangePut, ID: id, Version: v}
}

// A subscriber that does not read never blocks Publish; when it reads again it gets one
// resync in place of what it missed, then what follows.
func TestOverflowGivesOneResync(t *testing.T) {
	var h Hub
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := h.Subscribe(ctx, 0)
	done := make(chan struct{})
	go func() {
		for i := range Buffer * 3 {
			h.Publish(put("a", int64(i+1)), 0)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked on a subscriber that does not read")
	}
	if c := <-ch; c.Op != registry.ChangeResync {
		t.Fatalf("first after the overflow: %+v; want a resync", c)
	}
	// What follows the resync is what came after it, in order, up to the last change.
	last := int64(0)
	for pending := true; pending; {
		select {
		case c := <-ch:
			if c.Op != registry.ChangePut || c.Version <= last {
				t.Fatalf("after the resync: %+v after version %d; want later puts in order", c, last)
			}
			last = c.Version
		default:
			pending = false
		}
	}
	if last != Buffer*3 {
		t.Fatalf("the last change read is version %d; want %d", last, Buffer*3)
	}
	h.Publish(put("b", 1), 0)
	if c := <-ch; c != put("b", 1) {
		t.Fatalf("after the resync: %+v", c)
	}
}

func TestSequenceFilterAndClose(t *testing.T) {
	var h Hub
	ctx, cancel := context.WithCancel(context.Background())
	early := h.Subscribe(context.Background(), 5)
	late := h.Subscribe(ctx, 7)
	for seq := int64(5); seq <= 8; seq++ {
		h.Publish(put("a", seq), seq)
	}
	for _, want := range []int64{6, 7, 8} {
		if c := <-early; c.Version != want {
			t.Fatalf("early subscriber got version %d; want %d", c.Version, want)
		}
	}
	if c := <-late; c.Version != 8 {
		t.Fatalf("late subscriber got version %d; want only 8", c.Version)
	}
	cancel()
	if _, open := <-late; open {
		t.Fatal("the channel of a cancelled subscription is open")
	}
	h.Close()
	if _, open := <-early; open {
		t.Fatal("Close left a channel open")
	}
	if _, open := <-h.Subscribe(context.Background(), 0); open {
		t.Fatal("Subscribe after Close gave an open channel")
	}
}
