package sealed

import (
	"context"

	"github.com/regcred/regcred/registry"
)

var _ registry.Journal = (*Store)(nil)

// PutAudited implements registry.Journal through the inner store's: the record is sealed,
// then written with its audit entry in the inner store's one transaction. Over a store
// without a journal it fails with errors.ErrUnsupported (the Catalog then writes without
// one).
func (s *Store) PutAudited(ctx context.Context, r registry.Registry, a registry.Audit) (registry.Audit, error) {
	j, ok := s.inner.(registry.Journal)
	if !ok {
		return registry.Audit{}, unsupported("store put", "Journal")
	}
	if err := ctx.Err(); err != nil {
		return registry.Audit{}, err
	}
	sr, err := s.sealRecord(ctx, "store put", r)
	if err != nil {
		return registry.Audit{}, err
	}
	return j.PutAudited(ctx, sr, a)
}

// DeleteAudited implements registry.Journal through the inner store's.
func (s *Store) DeleteAudited(ctx context.Context, id string, version int64, a registry.Audit) (registry.Audit, error) {
	j, ok := s.inner.(registry.Journal)
	if !ok {
		return registry.Audit{}, unsupported("store delete", "Journal")
	}
	if id == KeyCheckID {
		return registry.Audit{}, &registry.Error{Op: "store delete", Registry: id, Err: registry.ErrNotFound}
	}
	return j.DeleteAudited(ctx, id, version, a)
}

// Changes implements registry.Journal through the inner store's.
func (s *Store) Changes(ctx context.Context, since uint64, limit int) ([]registry.Audit, error) {
	j, ok := s.inner.(registry.Journal)
	if !ok {
		return nil, unsupported("store changes", "Journal")
	}
	return j.Changes(ctx, since, limit)
}

// LastSeq implements registry.Journal through the inner store's.
func (s *Store) LastSeq(ctx context.Context) (uint64, error) {
	j, ok := s.inner.(registry.Journal)
	if !ok {
		return 0, unsupported("store changes", "Journal")
	}
	return j.LastSeq(ctx)
}
