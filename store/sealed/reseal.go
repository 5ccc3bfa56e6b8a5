package sealed

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/regcred/regcred/registry"
)

// ResealStats counts what a re-seal pass did.
type ResealStats struct {
	Resealed  int // records whose secret fields moved to the current key (or were sealed)
	Unchanged int // records already sealed with the current key only
	Retried   int // records written by someone else meanwhile, read again
}

// Reseal moves every record to the current master key: a record with a secret field
// sealed under another key, or still in plaintext, is opened and sealed again with the
// current key. Through the inner store's registry.Rewriter, the record keeps its version
// and no change is announced: its content is the same, so no cache is flushed anywhere.
// An inner store without Rewrite gets a Put of the next version instead (the Catalogs
// then reload the record). A record written meanwhile (ErrConflict) is read again; one
// that cannot be opened (a key this process lacks) stops the pass with that error.
//
// Rotation without downtime: give every replica the new key as a second key, then make
// it the first (current) on every replica, then run Reseal once; then the old key may go.
// The key-check record is re-sealed too, and forgets keys no record uses any more.
func (s *Store) Reseal(ctx context.Context) (ResealStats, error) {
	var st ResealStats
	all, err := s.inner.List(ctx)
	if err != nil {
		return st, &registry.Error{Op: "reseal", Err: err}
	}
	rw, canRewrite := s.inner.(registry.Rewriter)
	cur := s.keys.CurrentKeyID()
	for _, r := range all {
		if r.ID == KeyCheckID {
			continue
		}
		for attempt := 0; ; attempt++ {
			if !s.needsReseal(r, cur) {
				st.Unchanged++
				break
			}
			err := s.resealOne(ctx, rw, canRewrite, r)
			if err == nil {
				st.Resealed++
				break
			}
			if !errors.Is(err, registry.ErrConflict) || attempt >= 5 {
				return st, &registry.Error{Op: "reseal", Registry: r.ID, Err: err}
			}
			st.Retried++
			r, err = s.inner.Get(ctx, r.ID)
			if errors.Is(err, registry.ErrNotFound) {
				break // deleted meanwhile
			}
			if err != nil {
				return st, &registry.Error{Op: "reseal", Registry: r.ID, Err: err}
			}
		}
	}
	if err := s.resealKeyCheck(ctx); err != nil {
		return st, &registry.Error{Op: "reseal", Registry: KeyCheckID, Err: err}
	}
	return st, nil
}

// needsReseal reports whether a stored record has a secret field not sealed with cur.
func (s *Store) needsReseal(r registry.Registry, cur string) bool {
	for f, v := range r.Fields {
		if v == "" || !r.IsSecretField(f) {
			continue
		}
		if id, ok := KeyIDOf(v); !ok || id != cur {
			return true
		}
	}
	return false
}

func (s *Store) resealOne(ctx context.Context, rw registry.Rewriter, canRewrite bool, stored registry.Registry) error {
	plain, err := s.openRecord(ctx, "reseal", stored.Clone())
	if err != nil {
		return err
	}
	sealed, err := s.sealRecord(ctx, "reseal", plain)
	if err != nil {
		return err
	}
	if canRewrite {
		return rw.Rewrite(ctx, sealed)
	}
	sealed.Version++
	return s.inner.Put(ctx, sealed)
}

// resealKeyCheck rewrites the key-check record with the keys this process has and that
// the store knew (the current one included), each under itself.
func (s *Store) resealKeyCheck(ctx context.Context) error {
	rec, err := s.inner.Get(ctx, KeyCheckID)
	if err != nil {
		return err
	}
	next := rec.Clone()
	changed := false
	for f := range rec.Fields {
		id, ok := strings.CutPrefix(f, "key.")
		if !ok || id == s.keys.CurrentKeyID() {
			continue
		}
		// Another key: keep it only while a record still uses it (another replica may
		// have written with it since the pass read the records).
		used, err := s.keyInUse(ctx, id)
		if err != nil {
			return err
		}
		if !used {
			delete(next.Fields, f)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	next.Version++
	if err := s.inner.Put(ctx, next); err != nil {
		return fmt.Errorf("update the key check: %w", err)
	}
	return nil
}

func (s *Store) keyInUse(ctx context.Context, id string) (bool, error) {
	all, err := s.inner.List(ctx)
	if err != nil {
		return false, err
	}
	for _, r := range all {
		if r.ID == KeyCheckID {
			continue
		}
		for _, v := range r.Fields {
			if k, ok := KeyIDOf(v); ok && k == id {
				return true, nil
			}
		}
	}
	return false, nil
}
