package sealed

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"

	"github.com/regcred/regcred/registry"
)

var _ registry.RedactedLister = (*Store)(nil)

// redactedCache keeps the redacted view of each record, by ID with its version, sorted by
// ID, and the inner store's change count they were read at.
type redactedCache struct {
	mu      sync.Mutex
	m       map[string]registry.Registry
	sorted  []registry.Registry // the views of m, sorted by ID
	count   uint64              // the inner ChangeCount read before the views
	counted bool
}

// ListRedacted implements registry.RedactedLister: every record's redacted view, sorted by
// ID, without opening a sealed value (a redacted view shows none). Over an inner store
// that is a registry.VersionLister (store/sqlite, store/postgres) the views are kept by
// version: a listing reads the versions and only the records that changed; over one that
// is also a registry.ChangeCounter (store/sqlite), an unchanged count reads nothing else.
func (s *Store) ListRedacted(ctx context.Context) ([]registry.Registry, error) {
	vl, ok := s.inner.(registry.VersionLister)
	if !ok {
		all, err := s.inner.List(ctx)
		if err != nil {
			return nil, err
		}
		out := all[:0]
		for _, r := range all {
			if r.ID != KeyCheckID {
				out = append(out, r.Redacted())
			}
		}
		return out, nil
	}
	c := &s.redacted
	cc, counts := s.inner.(registry.ChangeCounter)
	var count uint64
	if counts {
		var err error
		if count, err = cc.ChangeCount(ctx); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.counted && c.count == count {
			out := clones(c.sorted)
			c.mu.Unlock()
			return out, nil
		}
		c.mu.Unlock()
	}
	c.mu.Lock()
	empty := len(c.m) == 0
	c.mu.Unlock()
	if empty { // a first listing: one read of everything, already sorted by ID
		all, err := s.inner.List(ctx) // read after the count: a write in between changes the next count
		if err != nil {
			return nil, err
		}
		m := make(map[string]registry.Registry, len(all))
		sorted := make([]registry.Registry, 0, len(all))
		for _, r := range all {
			if r.ID != KeyCheckID {
				r = r.Redacted()
				m[r.ID] = r
				sorted = append(sorted, r)
			}
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.m, c.sorted, c.count, c.counted = m, sorted, count, counts
		return clones(sorted), nil
	}
	vers, err := vl.Versions(ctx) // read after the count: a write in between changes the next count
	if err != nil {
		return nil, err
	}
	delete(vers, KeyCheckID)
	var missing []string
	c.mu.Lock()
	for id, v := range vers {
		if r, ok := c.m[id]; !ok || r.Version != v {
			missing = append(missing, id)
		}
	}
	c.mu.Unlock()
	fresh, err := s.readRedacted(ctx, missing, len(vers))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]registry.Registry, len(vers))
	}
	for _, r := range fresh {
		c.m[r.ID] = r
	}
	c.sorted = c.sorted[:0]
	for _, id := range slices.Sorted(maps.Keys(c.m)) {
		if _, ok := vers[id]; !ok {
			delete(c.m, id) // deleted
			continue
		}
		c.sorted = append(c.sorted, c.m[id])
	}
	c.count, c.counted = count, counts
	return clones(c.sorted), nil
}

// readRedacted reads the redacted views of the records ids (of total): one listing when
// many changed (a first listing), else one read each; a record deleted meanwhile is left
// out.
func (s *Store) readRedacted(ctx context.Context, ids []string, total int) ([]registry.Registry, error) {
	var out []registry.Registry
	if len(ids) > total/4 {
		all, err := s.inner.List(ctx)
		if err != nil {
			return nil, err
		}
		want := make(map[string]bool, len(ids))
		for _, id := range ids {
			want[id] = true
		}
		for _, r := range all {
			if want[r.ID] {
				out = append(out, r.Redacted())
			}
		}
		return out, nil
	}
	for _, id := range ids {
		r, err := s.inner.Get(ctx, id)
		switch {
		case errors.Is(err, registry.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			out = append(out, r.Redacted())
		}
	}
	return out, nil
}

func clones(rs []registry.Registry) []registry.Registry {
	out := make([]registry.Registry, len(rs))
	for i, r := range rs {
		out[i] = r.Clone()
	}
	return out
}
