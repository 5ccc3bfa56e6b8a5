package postgres

import (
	"context"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/internal/row"
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
	out, err := row.Versions(rows)
	if err != nil {
		return nil, dbError("store versions", "", err)
	}
	return out, nil
}
