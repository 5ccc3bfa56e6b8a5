package registry

import (
	"context"
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
	backlog int

	mu     sync.Mutex
	subs   map[*feedSub]struct{}
	closed bool
	done   chan struct{}
}

type feedSub struct {
	ch   chan Change
	wake chan struct{}
	q    []Change // guarded by Feed.mu
}

// NewFeed returns a Feed that queues up to backlog changes per watcher (DefaultFeedBacklog
// when backlog < 1).
func NewFeed(backlog int) *Feed {
	if backlog < 1 {
		backlog = DefaultFeedBacklog
	}
	return &Feed{backlog: backlog, subs: map[*feedSub]struct{}{}, done: make(chan struct{})}
}

// Subscribe starts a subscription that ends when ctx is done or the Feed is closed; then
// the channel is closed.
func (f *Feed) Subscribe(ctx context.Context) <-chan Change {
	s := &feedSub{ch: make(chan Change), wake: make(chan struct{}, 1)}
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

// Watchers is the number of live subscriptions.
func (f *Feed) Watchers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

func (f *Feed) run(ctx context.Context, s *feedSub) {
	defer close(s.ch)
	defer func() {
		f.mu.Lock()
		delete(f.subs, s)
		f.mu.Unlock()
	}()
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
		s.q[0] = Change{}
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

// Publish queues changes for every subscription. It never blocks.
func (f *Feed) Publish(changes ...Change) {
	if len(changes) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		for _, c := range changes {
			if len(s.q) >= f.backlog {
				// Fallen behind: what is queued is superseded by a resync.
				clear(s.q)
				s.q = append(s.q[:0], Change{Op: ChangeResync})
			}
			if c.Op == ChangeResync && len(s.q) > 0 && s.q[len(s.q)-1].Op == ChangeResync {
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

// Close ends every subscription; later ones end at once.
func (f *Feed) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.done)
	}
}
