package fanout

import (
	"context"
	"github.com/regcred/regcred/registry"
	"sync"
)

// DefaultFeedBacklog is how many changes a Feed queues for one watcher before it drops
// them and queues a ChangeResync instead.
const DefaultFeedBacklog = 1024

// Feed fans a Store's changes out to its watchers with the semantics of Watcher: every
// change published after Subscribe returns reaches the subscription, in publish order,
// until its ctx is done; a subscriber that falls more than the backlog behind gets a
// ChangeResync in place of the changes it missed, so Publish never blocks. Stores call
// Publish while they hold the lock that orders their commits. The zero value is not
// usable; call NewFeed. Safe for concurrent use.
type Feed struct {
	f *Fanout[registry.Change]
}

// NewFeed returns a Feed that queues up to backlog changes per watcher (DefaultFeedBacklog
// when backlog < 1).
func NewFeed(backlog int) *Feed {
	return &Feed{NewFanout(backlog, registry.Change{Op: registry.ChangeResync}, func(c registry.Change) bool { return c.Op == registry.ChangeResync })}
}

// Subscribe starts a subscription that ends when ctx is done or the Feed is closed; then
// the channel is closed.
func (f *Feed) Subscribe(ctx context.Context) <-chan registry.Change { return f.f.Subscribe(ctx) }

// Watchers is the number of live subscriptions.
func (f *Feed) Watchers() int { return f.f.watchers() }

// Publish queues changes for every subscription. It never blocks.
func (f *Feed) Publish(changes ...registry.Change) { f.f.Publish(changes...) }

// Close ends every subscription; later ones end at once.
func (f *Feed) Close() { f.f.Close() }

// fanout is the queue behind Feed and the Catalog's events: a goroutine per subscription
// forwards its queue; a queue longer than backlog is replaced by the resync value.
type Fanout[T any] struct {
	backlog  int
	resync   T
	isResync func(T) bool

	mu     sync.Mutex
	subs   map[*fanoutSub[T]]struct{}
	closed bool
	done   chan struct{}
}

type fanoutSub[T any] struct {
	ch   chan T
	wake chan struct{}
	q    []T // guarded by fanout.mu
}

func NewFanout[T any](backlog int, resync T, isResync func(T) bool) *Fanout[T] {
	if backlog < 1 {
		backlog = DefaultFeedBacklog
	}
	return &Fanout[T]{backlog: backlog, resync: resync, isResync: isResync,
		subs: map[*fanoutSub[T]]struct{}{}, done: make(chan struct{})}
}

func (f *Fanout[T]) Subscribe(ctx context.Context) <-chan T {
	s := &fanoutSub[T]{ch: make(chan T), wake: make(chan struct{}, 1)}
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

func (f *Fanout[T]) watchers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

func (f *Fanout[T]) run(ctx context.Context, s *fanoutSub[T]) {
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

func (f *Fanout[T]) Publish(items ...T) {
	if len(items) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		for _, c := range items {
			if len(s.q) >= f.backlog {
				// Fallen behind: what is queued is superseded by a resync.
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

func (f *Fanout[T]) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.done)
	}
}
