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
	records
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{records{recs: make(map[string]Registry)}}
}

// records is the map both stores serve from, with the version rules of Store. persist (nil
// for MemoryStore) saves the next state before it takes effect, so a failed write changes
// nothing.
type records struct {
	mu      sync.RWMutex
	recs    map[string]Registry
	persist func(map[string]Registry) error
}

// Get implements Store.
func (s *records) Get(ctx context.Context, id string) (Registry, error) {
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
func (s *records) List(ctx context.Context) ([]Registry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return sortedRecords(s.recs), nil
}

// Put implements Store.
func (s *records) Put(ctx context.Context, r Registry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.recs[r.ID]
	if err := checkPut(r, cur, ok); err != nil {
		return err
	}
	return s.commit("store put", r.ID, func(next map[string]Registry) { next[r.ID] = r.Clone() })
}

// Delete implements Store.
func (s *records) Delete(ctx context.Context, id string, version int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.recs[id]
	if err := checkDelete(id, version, cur, ok); err != nil {
		return err
	}
	return s.commit("store delete", id, func(next map[string]Registry) { delete(next, id) })
}

// commit applies change: in place without persist, else to a copy that is persisted first.
// The caller holds s.mu.
func (s *records) commit(op, id string, change func(map[string]Registry)) error {
	if s.persist == nil {
		change(s.recs)
		return nil
	}
	next := make(map[string]Registry, len(s.recs)+1)
	for k, x := range s.recs {
		next[k] = x
	}
	change(next)
	if err := s.persist(next); err != nil {
		return &Error{Op: op, Registry: id, Err: err}
	}
	s.recs = next
	return nil
}

func (s *records) count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.recs)
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
	return fmt.Sprintf("registry.MemoryStore{%d registries}", s.count())
}

// Format prints String under every verb: the records hold real secrets.
func (s *MemoryStore) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue keeps slog from encoding the records.
func (s *MemoryStore) LogValue() slog.Value { return slog.StringValue(s.String()) }
