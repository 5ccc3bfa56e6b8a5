package registry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
)

// MemoryStore is a Store in memory, for tests and for platforms that load their records
// from elsewhere. The zero value is not usable; call NewMemoryStore.
type MemoryStore struct {
	mu   sync.RWMutex
	recs map[string]Registry
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{recs: make(map[string]Registry)} }

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

// String summarizes the store without its records.
func (s *MemoryStore) String() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fmt.Sprintf("registry.MemoryStore{%d registries}", len(s.recs))
}

// Format prints String under every verb: the records hold real secrets.
func (s *MemoryStore) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue keeps slog from encoding the records.
func (s *MemoryStore) LogValue() slog.Value { return slog.StringValue(s.String()) }
