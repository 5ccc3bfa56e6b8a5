package sqlite

import (
	"context"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/internal/row"
)

var _ registry.VersionLister = (*Store)(nil)

// Versions implements registry.VersionLister: one index-only read, no record decoded.
func (s *Store) Versions(ctx context.Context) (map[string]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT id, version FROM regcred_registries")
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

var _ registry.ChangeCounter = (*Store)(nil)

// ChangeCount implements registry.ChangeCounter: the last sequence number of the change
// table (its triggers count every new version and delete, by any process; AUTOINCREMENT
// never reuses one, pruning or not).
func (s *Store) ChangeCount(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n uint64
	if err := s.db.QueryRowContext(ctx, "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'regcred_changes'), 0)").Scan(&n); err != nil {
		return 0, dbError("store change count", "", err)
	}
	return n, nil
}
