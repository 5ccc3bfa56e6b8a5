// Package feed is the change feed of the SQL stores: one source (a poller, a LISTEN
// connection) publishes each committed change with its sequence; each Watch call is a
// subscriber of an internal/fanout.Feed that skips what its snapshot already covered. A
// subscriber that falls behind gets one registry.ChangeResync in place of what it had
// pending, so a slow consumer never blocks writers or the other subscribers.
package feed

import (
	"context"
	"sync"

	"github.com/regcred/regcred/internal/fanout"
	"github.com/regcred/regcred/registry"
)

// Buffer is how many changes a subscriber may have pending before it is sent a resync.
const Buffer = 256

// Hub is the set of subscribers of one store. The zero value is ready; Close ends it.
type Hub struct {
	once sync.Once
	f    *fanout.Feed
}

func (h *Hub) feed() *fanout.Feed {
	h.once.Do(func() { h.f = fanout.NewFeed(Buffer) })
	return h.f
}

// Subscribe adds a subscriber until ctx is done or the hub closes; its channel is closed
// then. after is the sequence the subscriber has seen (Publish with seq <= after skips it);
// stores without sequences pass 0 and publish with seq 0.
func (h *Hub) Subscribe(ctx context.Context, after int64) <-chan registry.Change {
	return h.feed().SubscribeAfter(ctx, after)
}

// Len is the number of subscribers.
func (h *Hub) Len() int { return h.feed().Len() }

// Publish sends c (with its sequence seq, 0 when the store has none) to every subscriber
// that has not seen it. It never blocks.
func (h *Hub) Publish(c registry.Change, seq int64) { h.feed().PublishSeq(seq, c) }

// Close ends every subscription (their channels close) and refuses new ones.
func (h *Hub) Close() { h.feed().Close() }
