// Package migrate reads a store's schema migrations: numbered SQL files in an embed.FS
// ("001_init.sql", "002_....sql"), one set per SQL dialect, applied in order inside one
// transaction by the store that owns them. The version of a schema is the number of its
// last file; both dialects keep the same numbers.
package migrate

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/regcred/regcred/store"
)

// Migration is one numbered SQL file.
type Migration struct {
	Version int
	Name    string // the file name, for the schema table and messages
	SQL     string
}

// Load reads the *.sql files of dir in fsys, sorted by version. Versions start at 1 and
// have no gaps or duplicates; anything else is a build mistake and an error.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: the name must start with its version, e.g. 001_init.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d (versions start at 1, without gaps or duplicates)", m.Name, i+1)
		}
	}
	return out, nil
}

// Latest is the schema version the migrations lead to.
func Latest(ms []Migration) int { return len(ms) }

// Pending returns the migrations after current. A database at a version newer than the
// last migration is refused with an error wrapping store.ErrNewerSchema.
func Pending(ms []Migration, current int, what string) ([]Migration, error) {
	if current > len(ms) {
		return nil, fmt.Errorf("%s is at schema version %d, this regcred knows versions up to %d: upgrade regcred on every replica before opening it: %w",
			what, current, len(ms), store.ErrNewerSchema)
	}
	return ms[current:], nil
}
