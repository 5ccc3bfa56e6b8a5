package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store"
	"github.com/regcred/regcred/store/sqlite"
	"github.com/regcred/regcred/store/storetest"
)

func open(t testing.TB, path string, opts ...sqlite.Option) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, append([]sqlite.Option{sqlite.WithPollInterval(20 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	paths := map[registry.Store]string{}
	storetest.Run(t, func(t *testing.T) registry.Store {
		p := filepath.Join(t.TempDir(), "regcred.db")
		s := open(t, p)
		paths[s] = p
		return s
	}, storetest.WithReopen(func(t *testing.T, s registry.Store) registry.Store {
		return open(t, paths[s])
	}))
}

// The platform's own *sql.DB works too, and Close leaves it open.
func TestNewOnPlatformDB(t *testing.T) {
	p := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", p+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE app_users (name TEXT)"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := sqlite.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, storetest.Record("a", 1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM regcred_registries").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after Close the platform's db reads %d records, %v", n, err)
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestWALAndFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	p := filepath.Join(dir, "regcred.db")
	s := open(t, p)
	if err := s.Put(context.Background(), storetest.Record("a", 1)); err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := s.DB().QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	for _, f := range []string{p, p + "-wal", p + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v; want no access for group and others", filepath.Base(f), fi.Mode().Perm())
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, %v; want 0700", fi.Mode().Perm(), err)
	}
}

func TestExistingFileReadableByOthersIsTakenBack(t *testing.T) {
	p := filepath.Join(t.TempDir(), "regcred.db")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	open(t, p)
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v after open; want 0600", fi.Mode().Perm())
	}
}

func TestSchemaVersionAndNewerRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "regcred.db")
	s := open(t, p)
	var v int
	if err := s.DB().QueryRow("SELECT MAX(version) FROM regcred_schema_migrations").Scan(&v); err != nil || v != sqlite.SchemaVersion() {
		t.Fatalf("schema version %d, %v; want %d", v, err, sqlite.SchemaVersion())
	}
	// Reopening applies nothing twice.
	s2 := open(t, p)
	var n int
	if err := s2.DB().QueryRow("SELECT count(*) FROM regcred_schema_migrations").Scan(&n); err != nil || n != sqlite.SchemaVersion() {
		t.Fatalf("%d migration rows, %v; want %d", n, err, sqlite.SchemaVersion())
	}
	// A newer regcred migrated the file further.
	if _, err := s.DB().Exec("INSERT INTO regcred_schema_migrations (version, name) VALUES (?, '999_future.sql')", sqlite.SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite.Open(context.Background(), p)
	if !errors.Is(err, store.ErrNewerSchema) {
		t.Fatalf("open of a newer schema: %v; want ErrNewerSchema", err)
	}
	if !strings.Contains(err.Error(), "upgrade regcred") {
		t.Errorf("the error does not say what to do: %v", err)
	}
}

func TestBadPathsRefused(t *testing.T) {
	for _, p := range []string{"", ":memory:", "/tmp/x.db?mode=ro"} {
		if _, err := sqlite.Open(context.Background(), p); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("Open(%q) = %v; want ErrInvalid", p, err)
		}
	}
	dir := t.TempDir()
	if _, err := sqlite.Open(context.Background(), dir); err == nil {
		t.Errorf("Open(a directory) succeeded")
	}
}

// A platform's own SQL on the table is on the feed too (the feed is a trigger), and a
// change that arrives while nobody reads does not block the writer.
func TestFeedSeesPlainSQL(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "regcred.db"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := s.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, storetest.Record("a", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec("DELETE FROM regcred_registries WHERE id = 'a'"); err != nil {
		t.Fatal(err)
	}
	want := []registry.Change{{Op: registry.ChangePut, ID: "a", Version: 1}, {Op: registry.ChangeDelete, ID: "a", Version: 1}}
	for _, w := range want {
		select {
		case c := <-ch:
			if c != w {
				t.Fatalf("change %+v; want %+v", c, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no change %+v within 5s", w)
		}
	}
}

// A watcher that falls behind the change table's retention gets a resync.
func TestFeedPrunedGivesResync(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "regcred.db"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Put(ctx, storetest.Record("a", 1)); err != nil {
		t.Fatal(err)
	}
	ch, err := s.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Version 2 is written and its change pruned in one transaction: the watcher can only
	// see the gap.
	tx, err := s.DB().Begin()
	if err != nil {
		t.Fatal(err)
	}
	r := storetest.Record("a", 2)
	data, _ := registry.MarshalStored(r)
	if _, err := tx.Exec("UPDATE regcred_registries SET version = 2, record = ? WHERE id = 'a'", string(data)); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("DELETE FROM regcred_changes"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, storetest.Record("a", 3)); err != nil {
		t.Fatal(err)
	}
	got := []registry.Change{}
	timeout := time.After(5 * time.Second)
	for len(got) < 2 {
		select {
		case c := <-ch:
			got = append(got, c)
		case <-timeout:
			t.Fatalf("got %+v; want a resync and the put of version 3", got)
		}
	}
	if got[0].Op != registry.ChangeResync || got[1] != (registry.Change{Op: registry.ChangePut, ID: "a", Version: 3}) {
		t.Fatalf("got %+v; want a resync, then the put of version 3", got)
	}
}

// A platform's handle limited to one connection (common with SQLite) still serves the
// change feed: the poller pins no connection of it.
func TestFeedOnOneConnectionHandle(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "app.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := sqlite.New(ctx, db, sqlite.WithPollInterval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ch, err := s.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for v := int64(1); v <= 3; v++ {
		time.Sleep(30 * time.Millisecond) // let the poller run between writes
		if err := s.Put(ctx, storetest.Record("a", v)); err != nil {
			t.Fatal(err)
		}
		select {
		case c := <-ch:
			if c != (registry.Change{Op: registry.ChangePut, ID: "a", Version: v}) {
				t.Fatalf("change %+v; want the put of version %d", c, v)
			}
		case <-ctx.Done():
			t.Fatalf("no change for version %d", v)
		}
	}
}

// A file that is not a SQLite database is refused, and left as it was.
func TestNotADatabase(t *testing.T) {
	p := filepath.Join(t.TempDir(), "registries.json")
	body := []byte(`{"registries": []}` + strings.Repeat(" ", 200))
	if err := os.WriteFile(p, body, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite.Open(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), "not a database") {
		t.Fatalf("Open(a JSON file) = %v; want an error saying it is not a database", err)
	}
	if got, _ := os.ReadFile(p); string(got) != string(body) {
		t.Fatal("the file was changed")
	}
}

func TestJournal(t *testing.T) {
	storetest.RunJournal(t, func(t *testing.T) registry.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "regcred.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
