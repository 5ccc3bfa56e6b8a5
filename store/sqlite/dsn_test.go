package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store"
	"github.com/regcred/regcred/store/storetest"
)

// Every spelling of a SQLite DSN opens the file it names, at mode 0600 (with its WAL and
// shared-memory files), and leaves nothing else behind. "sqlite:file:/PATH" used to make a
// stray "file:" folder in the working directory and a database SQLite created 0644.
func TestDSNSpellings(t *testing.T) {
	dir := t.TempDir()
	cwd := t.TempDir()
	t.Chdir(cwd)
	for _, tc := range []struct{ dsn, file string }{
		{"sqlite:" + dir + "/plain.db", "plain.db"},
		{"sqlite://" + dir + "/slashes.db", "slashes.db"},
		{"sqlite:file:" + dir + "/uri.db", "uri.db"},
		{"sqlite:file://" + dir + "/uri-slashes.db", "uri-slashes.db"},
		{"sqlite:file://localhost" + dir + "/uri-host.db", "uri-host.db"},
		{"sqlite:relative.db", filepath.Join(cwd, "relative.db")},
	} {
		t.Run(tc.dsn, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, tc.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Put(ctx, storetest.Record("a", 1)); err != nil {
				t.Fatal(err)
			}
			path := tc.file
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			for _, suffix := range []string{"", "-wal", "-shm"} {
				fi, err := os.Stat(path + suffix)
				if err != nil {
					t.Fatalf("the database is not where the DSN says: %v", err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v, want 0600", filepath.Base(path+suffix), fi.Mode().Perm())
				}
			}
		})
	}
	entries, _ := os.ReadDir(cwd)
	for _, e := range entries {
		if e.Name() != "relative.db" && e.Name() != "relative.db-wal" && e.Name() != "relative.db-shm" {
			t.Errorf("a stray %q in the working directory", e.Name())
		}
	}
	// Query parameters and in-memory databases are not DSNs of the store: the field is named.
	for _, dsn := range []string{"sqlite:file:" + dir + "/x.db?mode=ro", "sqlite:file::memory:", "sqlite:file://otherhost/x.db", "sqlite:"} {
		var fe *registry.FieldError
		if _, err := store.Open(context.Background(), dsn); !errors.As(err, &fe) {
			t.Errorf("Open(%q) = %v, want a *FieldError", dsn, err)
		}
	}
}
