package row

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/regcred/regcred/registry"
)

// Rows is what the rows of database/sql and of pgx share.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// Versions reads rows of (id, version) into a map.
func Versions(rows Rows) (map[string]int64, error) {
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, rows.Err()
}

// AuditFields encodes the changed-field names of an audit entry for its row.
func AuditFields(a registry.Audit) (string, error) {
	b, err := json.Marshal(a.Fields)
	return string(b), err
}

// Audits reads rows of (seq, at, actor, action, id, name, version, fields): at is a
// timestamp (PostgreSQL) or RFC 3339 text (SQLite), fields what AuditFields wrote.
func Audits(rows Rows) ([]registry.Audit, error) {
	out := []registry.Audit{}
	for rows.Next() {
		var a registry.Audit
		var seq int64
		var at any
		var fields string
		if err := rows.Scan(&seq, &at, &a.Actor, &a.Action, &a.ID, &a.Name, &a.Version, &fields); err != nil {
			return nil, err
		}
		a.Seq = uint64(seq)
		switch v := at.(type) {
		case time.Time:
			a.Time = v.UTC()
		case string:
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, fmt.Errorf("audit entry %d: time: %w", seq, err)
			}
			a.Time = t
		default:
			return nil, fmt.Errorf("audit entry %d: time is a %T", seq, at)
		}
		if err := json.Unmarshal([]byte(fields), &a.Fields); err != nil {
			return nil, fmt.Errorf("audit entry %d: fields: %w", seq, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
