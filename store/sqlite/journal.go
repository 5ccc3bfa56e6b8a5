package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/internal/row"
)

var _ registry.Journal = (*Store)(nil)

// PutAudited implements registry.Journal: Put and its audit entry in one transaction.
func (s *Store) PutAudited(ctx context.Context, r registry.Registry, a registry.Audit) (registry.Audit, error) {
	if err := ctx.Err(); err != nil {
		return registry.Audit{}, err
	}
	data, err := row.Encode("store put", r)
	if err != nil {
		return registry.Audit{}, err
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	return s.audited(ctx, "store put", r.ID, a, func(tx *sql.Tx) (sql.Result, error) {
		if r.Version == 1 {
			return tx.ExecContext(ctx, "INSERT INTO regcred_registries (id, version, record, updated_at) VALUES (?, 1, ?, ?) ON CONFLICT (id) DO NOTHING", r.ID, string(data), now)
		}
		return tx.ExecContext(ctx, "UPDATE regcred_registries SET version = ?, record = ?, updated_at = ? WHERE id = ? AND version = ?", r.Version, string(data), now, r.ID, r.Version-1)
	}, func() error { return s.missed(ctx, "store put", r.ID, r.Version-1) })
}

// DeleteAudited implements registry.Journal: Delete and its audit entry in one
// transaction.
func (s *Store) DeleteAudited(ctx context.Context, id string, version int64, a registry.Audit) (registry.Audit, error) {
	if err := ctx.Err(); err != nil {
		return registry.Audit{}, err
	}
	return s.audited(ctx, "store delete", id, a, func(tx *sql.Tx) (sql.Result, error) {
		if version == 0 {
			return tx.ExecContext(ctx, "DELETE FROM regcred_registries WHERE id = ?", id)
		}
		return tx.ExecContext(ctx, "DELETE FROM regcred_registries WHERE id = ? AND version = ?", id, version)
	}, func() error {
		cur, found, err := s.storedVersion(ctx, id)
		if err != nil {
			return dbError("store delete", id, err)
		}
		return row.MissedDelete(id, version, cur, found)
	})
}

// audited runs write and, when it changed one row, inserts a in the same transaction.
// A write that matched no row is explained by missed.
func (s *Store) audited(ctx context.Context, op, id string, a registry.Audit, write func(*sql.Tx) (sql.Result, error), missed func() error) (registry.Audit, error) {
	fields, err := row.AuditFields(a)
	if err != nil {
		return registry.Audit{}, dbError(op, id, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return registry.Audit{}, dbError(op, id, err)
	}
	defer tx.Rollback()
	res, err := write(tx)
	if err != nil {
		return registry.Audit{}, dbError(op, id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		tx.Rollback()
		return registry.Audit{}, missed()
	}
	a = a.Clone()
	a.Time = a.Time.UTC()
	err = tx.QueryRowContext(ctx, "INSERT INTO regcred_audit (at, actor, action, id, name, version, fields) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq",
		a.Time.Format(time.RFC3339Nano), a.Actor, a.Action, a.ID, a.Name, a.Version, fields).Scan(&a.Seq)
	if err != nil {
		return registry.Audit{}, dbError(op, id, err)
	}
	if err := tx.Commit(); err != nil {
		return registry.Audit{}, dbError(op, id, err)
	}
	s.wrote(ctx)
	return a, nil
}

// Changes implements registry.Journal.
func (s *Store) Changes(ctx context.Context, since uint64, limit int) ([]registry.Audit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.db.QueryContext(ctx, "SELECT seq, at, actor, action, id, name, version, fields FROM regcred_audit WHERE seq > ? ORDER BY seq LIMIT ?", since, limit)
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
	var n uint64
	if err := s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM regcred_audit").Scan(&n); err != nil {
		return 0, dbError("store changes", "", err)
	}
	return n, nil
}
