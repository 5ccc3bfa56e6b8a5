package registry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// MemoryStore is a Store in memory, for tests and for platforms that load their records
// from elsewhere. It implements every optional interface: Watcher (changes are published
// as they commit), HealthStore and Rewriter. The zero value is not usable; call
// NewMemoryStore.
type MemoryStore struct {
	mu     sync.RWMutex
	recs   map[string]Registry
	health map[string]Health
	feed   *Feed
}

var (
	_ Store       = (*MemoryStore)(nil)
	_ Watcher     = (*MemoryStore)(nil)
	_ HealthStore = (*MemoryStore)(nil)
	_ Rewriter    = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{recs: map[string]Registry{}, health: map[string]Health{}, feed: NewFeed(0)}
}

// Get implements Store.
func (s *MemoryStore) Get(ctx context.Context, id string) (Registry, error) {
	if err := ctx.Err(); err != nil {
		return Registry{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.recs[id]
	if !ok {
		return Registry{}, notFound("store get", id)
	}
	return r.Clone(), nil
}

// List implements Store.
func (s *MemoryStore) List(ctx context.Context) ([]Registry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return sortedRecords(s.recs), nil
}

// Put implements Store.
func (s *MemoryStore) Put(ctx context.Context, r Registry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.recs[r.ID]
	if err := checkPut(r, cur, ok); err != nil {
		return err
	}
	s.recs[r.ID] = r.Clone()
	s.feed.Publish(Change{Op: ChangePut, ID: r.ID, Version: r.Version})
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(ctx context.Context, id string, version int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.recs[id]
	if err := checkDelete(id, version, cur, ok); err != nil {
		return err
	}
	delete(s.recs, id)
	delete(s.health, id)
	s.feed.Publish(Change{Op: ChangeDelete, ID: id, Version: cur.Version})
	return nil
}

// Watch implements Watcher: changes are published as they commit.
func (s *MemoryStore) Watch(ctx context.Context) (<-chan Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock() // no commit lands between the caller's view and the subscription
	defer s.mu.Unlock()
	return s.feed.Subscribe(ctx), nil
}

// Rewrite implements Rewriter.
func (s *MemoryStore) Rewrite(ctx context.Context, r Registry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.recs[r.ID]
	if err := checkRewrite(r, cur, ok); err != nil {
		return err
	}
	s.recs[r.ID] = r.Clone()
	return nil
}

// Health implements HealthStore.
func (s *MemoryStore) Health(ctx context.Context, id string) (Health, error) {
	if err := ctx.Err(); err != nil {
		return Health{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.recs[id]; !ok {
		return Health{}, notFound("store health", id)
	}
	return s.health[id].Clone(), nil
}

// ListHealth implements HealthStore.
func (s *MemoryStore) ListHealth(ctx context.Context) (map[string]Health, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]Health, len(s.health))
	for id, h := range s.health {
		out[id] = h.Clone()
	}
	return out, nil
}

// UpdateHealth implements HealthStore.
func (s *MemoryStore) UpdateHealth(ctx context.Context, id string, update func(*Health)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.recs[id]; !ok {
		return notFound("store health", id)
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
func (s *MemoryStore) Close() error {
	s.feed.Close()
	return nil
}

func sortedRecords(m map[string]Registry) []Registry {
	out := make([]Registry, 0, len(m))
	for _, r := range m {
		out = append(out, r.Clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *MemoryStore) count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.recs)
}

// String summarizes the store without its records.
func (s *MemoryStore) String() string {
	return fmt.Sprintf("registry.MemoryStore{%d registries}", s.count())
}

// Format prints String under every verb: the records hold real secrets.
func (s *MemoryStore) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue keeps slog from encoding the records.
func (s *MemoryStore) LogValue() slog.Value { return slog.StringValue(s.String()) }
