package postgres

import (
	"context"

	"github.com/regcred/regcred/registry"
)

var _ registry.VersionLister = (*Store)(nil)

// Versions implements registry.VersionLister: no record decoded.
func (s *Store) Versions(ctx context.Context) (map[string]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, "SELECT id, version FROM regcred_registries")
	if err != nil {
		return nil, dbError("store versions", "", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, dbError("store versions", "", err)
		}
		out[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("store versions", "", err)
	}
	return out, nil
}
