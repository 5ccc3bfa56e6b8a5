package memory

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/regcred/regcred/internal/fanout"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/internal/row"
)

// MemoryStore is a Store in memory, for tests and for platforms that load their records
// from elsewhere. It implements every optional interface: Watcher (changes are published
// as they commit), HealthStore and Rewriter. The zero value is not usable; call
// NewMemoryStore.
type Store struct {
	mu     sync.RWMutex
	recs   map[string]registry.Registry
	health map[string]registry.Health
	feed   *fanout.Feed
}

var (
	_ registry.Store       = (*Store)(nil)
	_ registry.Watcher     = (*Store)(nil)
	_ registry.HealthStore = (*Store)(nil)
	_ registry.Rewriter    = (*Store)(nil)
)

// NewMemoryStore returns an empty store.
func New() *Store {
	return &Store{recs: map[string]registry.Registry{}, health: map[string]registry.Health{}, feed: fanout.NewFeed(0)}
}

// Get implements Store.
func (s *Store) Get(ctx context.Context, id string) (registry.Registry, error) {
	if err := ctx.Err(); err != nil {
		return registry.Registry{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.recs[id]
	if !ok {
		return registry.Registry{}, registry.NotFound("store get", id)
	}
	return r.Clone(), nil
}

// List implements Store.
func (s *Store) List(ctx context.Context) ([]registry.Registry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return row.SortedClones(s.recs), nil
}

// Put implements Store.
func (s *Store) Put(ctx context.Context, r registry.Registry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.recs[r.ID]
	if err := registry.CheckPut(r, cur, ok); err != nil {
		return err
	}
	s.recs[r.ID] = r.Clone()
	s.feed.Publish(registry.Change{Op: registry.ChangePut, ID: r.ID, Version: r.Version})
	return nil
}

// Delete implements Store.
func (s *Store) Delete(ctx context.Context, id string, version int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.recs[id]
	if err := registry.CheckDelete(id, version, cur, ok); err != nil {
		return err
	}
	delete(s.recs, id)
	delete(s.health, id)
	s.feed.Publish(registry.Change{Op: registry.ChangeDelete, ID: id, Version: cur.Version})
	return nil
}

// Watch implements Watcher: changes are published as they commit.
func (s *Store) Watch(ctx context.Context) (<-chan registry.Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock() // no commit lands between the caller's view and the subscription
	defer s.mu.Unlock()
	return s.feed.Subscribe(ctx), nil
}

// Rewrite implements Rewriter.
func (s *Store) Rewrite(ctx context.Context, r registry.Registry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.recs[r.ID]
	if err := registry.CheckRewrite(r, cur, ok); err != nil {
		return err
	}
	s.recs[r.ID] = r.Clone()
	return nil
}

// Health implements HealthStore.
func (s *Store) Health(ctx context.Context, id string) (registry.Health, error) {
	if err := ctx.Err(); err != nil {
		return registry.Health{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.recs[id]; !ok {
		return registry.Health{}, registry.NotFound("store health", id)
	}
	return s.health[id].Clone(), nil
}

// ListHealth implements HealthStore.
func (s *Store) ListHealth(ctx context.Context) (map[string]registry.Health, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]registry.Health, len(s.health))
	for id, h := range s.health {
		out[id] = h.Clone()
	}
	return out, nil
}

// UpdateHealth implements HealthStore.
func (s *Store) UpdateHealth(ctx context.Context, id string, update func(*registry.Health)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.recs[id]; !ok {
		return registry.NotFound("store health", id)
	}
	h := s.health[id].Clone()
	update(&h)
	h.CredentialsExpire = time.Time{}
	if h.IsZero() {
		delete(s.health, id)
	} else {
		s.health[id] = h
	}
	return nil
}

// Close ends every Watch subscription.
func (s *Store) Close() error {
	s.feed.Close()
	return nil
}

func (s *Store) count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.recs)
}

// String summarizes the store without its records.
func (s *Store) String() string {
	return fmt.Sprintf("memory.Store{%d registries}", s.count())
}

// Format prints String under every verb: the records hold real secrets.
func (s *Store) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue keeps slog from encoding the records.
func (s *Store) LogValue() slog.Value { return slog.StringValue(s.String()) }
