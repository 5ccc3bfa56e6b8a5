package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/internal/row"
)

// Health implements registry.HealthStore.
func (s *Store) Health(ctx context.Context, id string) (registry.Health, error) {
	if err := ctx.Err(); err != nil {
		return registry.Health{}, err
	}
	var data sql.NullString
	err := s.db.QueryRowContext(ctx, "SELECT h.health FROM regcred_registries r LEFT JOIN regcred_health h ON h.id = r.id WHERE r.id = ?", id).Scan(&data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.Health{}, &registry.Error{Op: "store health", Registry: id, Err: registry.ErrNotFound}
	case err != nil:
		return registry.Health{}, dbError("store health", id, err)
	}
	return decodeHealth(id, data)
}

func decodeHealth(id string, data sql.NullString) (registry.Health, error) {
	return row.Health(id, data.String)
}

// ListHealth implements registry.HealthStore.
func (s *Store) ListHealth(ctx context.Context) (map[string]registry.Health, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT h.id, h.health FROM regcred_health h JOIN regcred_registries r ON r.id = h.id")
	if err != nil {
		return nil, dbError("store health", "", err)
	}
	defer rows.Close()
	out := map[string]registry.Health{}
	for rows.Next() {
		var id string
		var data sql.NullString
		if err := rows.Scan(&id, &data); err != nil {
			return nil, dbError("store health", "", err)
		}
		h, err := decodeHealth(id, data)
		if err != nil {
			return nil, err
		}
		if !h.IsZero() {
			out[id] = h
		}
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("store health", "", err)
	}
	return out, nil
}

// UpdateHealth implements registry.HealthStore: read, update and write in one IMMEDIATE
// transaction, so writers in other processes wait their turn.
func (s *Store) UpdateHealth(ctx context.Context, id string, update func(*registry.Health)) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return dbError("store health", id, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return dbError("store health", id, err)
	}
	committed := false
	defer func() {
		if !committed {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	var data sql.NullString
	err = conn.QueryRowContext(ctx, "SELECT h.health FROM regcred_registries r LEFT JOIN regcred_health h ON h.id = r.id WHERE r.id = ?", id).Scan(&data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &registry.Error{Op: "store health", Registry: id, Err: registry.ErrNotFound}
	case err != nil:
		return dbError("store health", id, err)
	}
	h, err := decodeHealth(id, data)
	if err != nil {
		return err
	}
	update(&h)
	out, err := json.Marshal(h)
	if err != nil {
		return &registry.Error{Op: "store health", Registry: id, Err: err}
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO regcred_health (id, health) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET health = excluded.health", id, string(out)); err != nil {
		return dbError("store health", id, err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return dbError("store health", id, err)
	}
	committed = true
	return nil
}
