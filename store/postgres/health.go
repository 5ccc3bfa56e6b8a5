package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/internal/row"
)

// Health implements registry.HealthStore.
func (s *Store) Health(ctx context.Context, id string) (registry.Health, error) {
	if err := ctx.Err(); err != nil {
		return registry.Health{}, err
	}
	var data *string
	err := s.pool.QueryRow(ctx, "SELECT h.health FROM regcred_registries r LEFT JOIN regcred_health h ON h.id = r.id WHERE r.id = $1", id).Scan(&data)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return registry.Health{}, &registry.Error{Op: "store health", Registry: id, Err: registry.ErrNotFound}
	case err != nil:
		return registry.Health{}, dbError("store health", id, err)
	}
	return decodeHealth(id, data)
}

func decodeHealth(id string, data *string) (registry.Health, error) {
	if data == nil {
		return registry.Health{}, nil
	}
	return row.Health(id, *data)
}

// ListHealth implements registry.HealthStore.
func (s *Store) ListHealth(ctx context.Context) (map[string]registry.Health, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, "SELECT id, health FROM regcred_health")
	if err != nil {
		return nil, dbError("store health", "", err)
	}
	defer rows.Close()
	out := map[string]registry.Health{}
	for rows.Next() {
		var id string
		var data *string
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

// UpdateHealth implements registry.HealthStore: the record's row is locked (FOR UPDATE)
// for the read-modify-write, so replicas take turns.
func (s *Store) UpdateHealth(ctx context.Context, id string, update func(*registry.Health)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Lock the record first; the health is read by the next statement, whose snapshot
		// sees what the previous holder of the lock committed (a joined read under FOR
		// UPDATE would see the health as it was before the wait).
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM regcred_registries WHERE id = $1 FOR UPDATE", id).Scan(&one)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return &registry.Error{Op: "store health", Registry: id, Err: registry.ErrNotFound}
		case err != nil:
			return dbError("store health", id, err)
		}
		var data *string
		if err := tx.QueryRow(ctx, "SELECT health FROM regcred_health WHERE id = $1", id).Scan(&data); err != nil && !errors.Is(err, pgx.ErrNoRows) {
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
		if _, err := tx.Exec(ctx, "INSERT INTO regcred_health (id, health) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET health = excluded.health", id, string(out)); err != nil {
			return dbError("store health", id, err)
		}
		return nil
	})
	var re *registry.Error
	if err != nil && !errors.As(err, &re) {
		return dbError("store health", id, err)
	}
	return err
}
