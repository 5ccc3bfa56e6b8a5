// Package feed fans a store's change feed out to its subscribers (registry.Watcher): one
// source (a poller, a LISTEN connection) publishes, each Watch call is a subscriber with a
// bounded buffer. A subscriber that falls behind gets one registry.ChangeResync in place of
// what it had pending, so a slow consumer never blocks writers or the other subscribers.
package feed

import (
	"context"
	"sync"

	"github.com/regcred/regcred/registry"
)

// Buffer is how many changes a subscriber may have pending before it is sent a resync.
const Buffer = 256

// Hub is the set of subscribers of one store. The zero value is ready; Close ends it.
type Hub struct {
	mu     sync.Mutex
	subs   map[*sub]struct{}
	closed bool
}

type sub struct {
	ch    chan registry.Change
	after int64 // skip changes with a sequence at or below (stores with sequences)
	done  chan struct{}
}

// Subscribe adds a subscriber until ctx is done or the hub closes; its channel is closed
// then. after is the sequence the subscriber has seen (Publish with seq <= after skips it);
// stores without sequences pass 0 and publish with seq 0.
func (h *Hub) Subscribe(ctx context.Context, after int64) <-chan registry.Change {
	s := &sub{ch: make(chan registry.Change, Buffer), after: after, done: make(chan struct{})}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		close(s.ch)
		return s.ch
	}
	if h.subs == nil {
		h.subs = make(map[*sub]struct{})
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-s.done:
			return
		}
		h.mu.Lock()
		if _, ok := h.subs[s]; ok {
			delete(h.subs, s)
			close(s.done)
			close(s.ch)
		}
		h.mu.Unlock()
	}()
	return s.ch
}

// Len is the number of subscribers.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Publish sends c (with its sequence seq, 0 when the store has none) to every subscriber
// that has not seen it. It never blocks: a full subscriber gets a resync instead.
func (h *Hub) Publish(c registry.Change, seq int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if seq != 0 && seq <= s.after {
			continue
		}
		s.send(c)
	}
}

// send delivers c without blocking; the hub's lock is held. When the buffer is full, what
// is pending is dropped for one ChangeResync: reloading everything covers every change
// dropped and c too.
func (s *sub) send(c registry.Change) {
	select {
	case s.ch <- c:
		return
	default:
	}
	for drained := false; !drained; {
		select {
		case <-s.ch:
		default:
			drained = true
		}
	}
	select {
	case s.ch <- registry.Change{Op: registry.ChangeResync}:
	default: // unreachable: the buffer was just emptied and only the hub sends
	}
}

// Close ends every subscription (their channels close) and refuses new ones.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.done)
		close(s.ch)
	}
}
