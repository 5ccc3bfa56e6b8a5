package feed

import (
	"context"
	"testing"

	"github.com/regcred/regcred/registry"
)

func put(id string, v int64) registry.Change {
	return registry.Change{Op: registry.ChangePut, ID: id, Version: v}
}

// A subscriber made after a sequence skips what its snapshot covered; cancel and Close end
// subscriptions. (Overflow and resync are internal/fanout's, tested there.)
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
