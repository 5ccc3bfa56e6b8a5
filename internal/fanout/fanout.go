package fanout

import (
	"context"
	"sync"

	"github.com/regcred/regcred/registry"
)

// DefaultFeedBacklog is how many values a subscription queues before what it has queued is
// replaced by one resync value.
const DefaultFeedBacklog = 1024

// Fanout delivers published values to every subscription, in publish order, until the
// subscription's ctx is done or Close. Each subscription has its own queue and goroutine;
// a queue longer than the backlog is replaced by the resync value (reloading everything
// covers every value dropped), so Publish never blocks and a slow subscriber holds back
// nobody. Consecutive resyncs are coalesced. A value may carry a sequence
// (PublishSeq): a subscription made with SubscribeAfter(after) skips values whose
// sequence is at or below after, so a subscriber that has read a snapshot up to a
// sequence sees nothing twice. Safe for concurrent use.
type Fanout[T any] struct {
	backlog  int
	resync   T
	isResync func(T) bool

	mu     sync.Mutex
	subs   map[*sub[T]]struct{}
	closed bool
	done   chan struct{}
}

type sub[T any] struct {
	ch    chan T
	wake  chan struct{}
	after int64
	q     []T // guarded by Fanout.mu
}

// NewFanout returns a Fanout whose subscriptions queue up to backlog values
// (DefaultFeedBacklog when backlog < 1) before they get resync; isResync tells a resync
// value.
func NewFanout[T any](backlog int, resync T, isResync func(T) bool) *Fanout[T] {
	if backlog < 1 {
		backlog = DefaultFeedBacklog
	}
	return &Fanout[T]{backlog: backlog, resync: resync, isResync: isResync,
		subs: map[*sub[T]]struct{}{}, done: make(chan struct{})}
}

// Subscribe starts a subscription that gets every value published after it returns.
func (f *Fanout[T]) Subscribe(ctx context.Context) <-chan T { return f.SubscribeAfter(ctx, 0) }

// SubscribeAfter is Subscribe that skips values published with a sequence <= after.
func (f *Fanout[T]) SubscribeAfter(ctx context.Context, after int64) <-chan T {
	s := &sub[T]{ch: make(chan T), wake: make(chan struct{}, 1), after: after}
	f.mu.Lock()
	if f.closed || ctx.Err() != nil {
		f.mu.Unlock()
		close(s.ch)
		return s.ch
	}
	f.subs[s] = struct{}{}
	f.mu.Unlock()
	go f.run(ctx, s)
	return s.ch
}

// Len is the number of live subscriptions.
func (f *Fanout[T]) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

func (f *Fanout[T]) run(ctx context.Context, s *sub[T]) {
	defer close(s.ch)
	defer func() {
		f.mu.Lock()
		delete(f.subs, s)
		f.mu.Unlock()
	}()
	var zero T
	for {
		f.mu.Lock()
		if len(s.q) == 0 {
			f.mu.Unlock()
			select {
			case <-s.wake:
				continue
			case <-ctx.Done():
				return
			case <-f.done:
				return
			}
		}
		c := s.q[0]
		s.q[0] = zero
		s.q = s.q[1:]
		f.mu.Unlock()
		select {
		case s.ch <- c:
		case <-ctx.Done():
			return
		case <-f.done:
			return
		}
	}
}

// Publish queues items, in order, for every subscription. It never blocks.
func (f *Fanout[T]) Publish(items ...T) { f.PublishSeq(0, items...) }

// PublishSeq is Publish for items committed at sequence seq (0: none); subscriptions made
// after seq skip them.
func (f *Fanout[T]) PublishSeq(seq int64, items ...T) {
	if len(items) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		if seq != 0 && seq <= s.after {
			continue
		}
		for _, c := range items {
			if len(s.q) >= f.backlog {
				clear(s.q)
				s.q = append(s.q[:0], f.resync)
			}
			if f.isResync(c) && len(s.q) > 0 && f.isResync(s.q[len(s.q)-1]) {
				continue
			}
			s.q = append(s.q, c)
		}
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Close ends every subscription (their channels close); later ones end at once.
func (f *Fanout[T]) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.done)
	}
}

// Feed is the Fanout of a Store's registry.Change values with the semantics of
// registry.Watcher; its resync value is a ChangeResync.
type Feed = Fanout[registry.Change]

// NewFeed returns a Feed that queues up to backlog changes per watcher (DefaultFeedBacklog
// when backlog < 1).
func NewFeed(backlog int) *Feed {
	return NewFanout(backlog, registry.Change{Op: registry.ChangeResync},
		func(c registry.Change) bool { return c.Op == registry.ChangeResync })
}
