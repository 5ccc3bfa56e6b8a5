package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/internal/row"
)

var (
	_ registry.Journal = (*Store)(nil)
	_ registry.Journal = (*FencedStore)(nil)
)

// PutAudited implements registry.Journal: Put and its audit entry in one transaction.
func (s *Store) PutAudited(ctx context.Context, r registry.Registry, a registry.Audit) (registry.Audit, error) {
	return s.inTx(ctx, "store put", r.ID, func(tx pgx.Tx) (registry.Audit, error) { return putAudited(ctx, tx, r, a) })
}

// DeleteAudited implements registry.Journal: Delete and its audit entry in one
// transaction.
func (s *Store) DeleteAudited(ctx context.Context, id string, version int64, a registry.Audit) (registry.Audit, error) {
	return s.inTx(ctx, "store delete", id, func(tx pgx.Tx) (registry.Audit, error) { return deleteAudited(ctx, tx, id, version, a) })
}

// PutAudited implements registry.Journal, fenced.
func (f *FencedStore) PutAudited(ctx context.Context, r registry.Registry, a registry.Audit) (out registry.Audit, err error) {
	err = f.inFence(ctx, "store put", r.ID, func(tx pgx.Tx) error { out, err = putAudited(ctx, tx, r, a); return err })
	return out, err
}

// DeleteAudited implements registry.Journal, fenced.
func (f *FencedStore) DeleteAudited(ctx context.Context, id string, version int64, a registry.Audit) (out registry.Audit, err error) {
	err = f.inFence(ctx, "store delete", id, func(tx pgx.Tx) error { out, err = deleteAudited(ctx, tx, id, version, a); return err })
	return out, err
}

func (s *Store) inTx(ctx context.Context, op, id string, write func(pgx.Tx) (registry.Audit, error)) (out registry.Audit, err error) {
	if err := ctx.Err(); err != nil {
		return registry.Audit{}, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { out, err = write(tx); return err })
	if err != nil {
		var re *registry.Error
		if ctx.Err() == nil && !errors.As(err, &re) {
			err = dbError(op, id, err)
		}
		return registry.Audit{}, err
	}
	return out, nil
}

func putAudited(ctx context.Context, tx pgx.Tx, r registry.Registry, a registry.Audit) (registry.Audit, error) {
	if err := lockJournal(ctx, tx, r.ID); err != nil {
		return registry.Audit{}, err
	}
	if err := put(ctx, tx, r); err != nil {
		return registry.Audit{}, err
	}
	return insertAudit(ctx, tx, a)
}

func deleteAudited(ctx context.Context, tx pgx.Tx, id string, version int64, a registry.Audit) (registry.Audit, error) {
	if err := lockJournal(ctx, tx, id); err != nil {
		return registry.Audit{}, err
	}
	if err := del(ctx, tx, id, version); err != nil {
		return registry.Audit{}, err
	}
	return insertAudit(ctx, tx, a)
}

// lockJournal serializes audited writes until their commit, so that seq order is commit
// order (an identity value is drawn at insert time, not at commit).
func lockJournal(ctx context.Context, tx pgx.Tx, id string) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('regcred_audit', 0))"); err != nil {
		return dbError("store journal", id, err)
	}
	return nil
}

func insertAudit(ctx context.Context, tx pgx.Tx, a registry.Audit) (registry.Audit, error) {
	fields, err := row.AuditFields(a)
	if err != nil {
		return registry.Audit{}, dbError("store journal", a.ID, err)
	}
	a = a.Clone()
	a.Time = a.Time.UTC()
	var seq int64
	if err := tx.QueryRow(ctx, "INSERT INTO regcred_audit (at, actor, action, id, name, version, fields) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
		a.Time, a.Actor, a.Action, a.ID, a.Name, a.Version, fields).Scan(&seq); err != nil {
		return registry.Audit{}, dbError("store journal", a.ID, err)
	}
	a.Seq = uint64(seq)
	return a, nil
}

// Changes implements registry.Journal.
func (s *Store) Changes(ctx context.Context, since uint64, limit int) ([]registry.Audit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q := "SELECT seq, at, actor, action, id, name, version, fields FROM regcred_audit WHERE seq > $1 ORDER BY seq"
	args := []any{int64(since)}
	if limit > 0 {
		q += " LIMIT $2"
		args = append(args, limit)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, dbError("store changes", "", err)
	}
	defer rows.Close()
	out, err := row.Audits(rows)
	if err != nil {
		return nil, dbError("store changes", "", err)
	}
	return out, nil
}

// LastSeq implements registry.Journal.
func (s *Store) LastSeq(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int64
	if err := s.pool.QueryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM regcred_audit").Scan(&n); err != nil {
		return 0, dbError("store changes", "", err)
	}
	return uint64(n), nil
}
