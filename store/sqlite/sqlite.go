package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the pure-Go driver "sqlite"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store"
	"github.com/regcred/regcred/store/internal/feed"
	"github.com/regcred/regcred/store/internal/migrate"
	"github.com/regcred/regcred/store/internal/row"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations are the schema versions of this dialect, read once.
var migrations = sync.OnceValues(func() ([]migrate.Migration, error) { return migrate.Load(migrationFiles, "migrations") })

// SchemaVersion is the schema version this package migrates a database to.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		panic(err) // the embedded files are part of the build
	}
	return migrate.Latest(ms)
}

// Store is a registry.Store in a SQLite database. It also implements registry.Watcher
// (changes made by any process on the database), registry.Rewriter and
// registry.HealthStore. It is safe for concurrent use, by several Stores in several
// processes on one database file.
type Store struct {
	db   *sql.DB
	own  bool // Open opened db: Close closes it
	name string
	cfg  config

	hub      feed.Hub
	pollOnce sync.Once
	stop     chan struct{}
	stopped  chan struct{}
	closed   atomic.Bool
	writes   atomic.Int64 // writes through this handle, to prune the change table now and then
}

var (
	_ registry.Store       = (*Store)(nil)
	_ registry.Watcher     = (*Store)(nil)
	_ registry.Rewriter    = (*Store)(nil)
	_ registry.HealthStore = (*Store)(nil)
	_ store.Store          = (*Store)(nil)
)

// Defaults.
const (
	DefaultBusyTimeout  = 10 * time.Second
	DefaultPollInterval = 25 * time.Millisecond
	// changeRetention is how many changes the change table keeps; a watcher further behind
	// gets a resync.
	changeRetention = 10000
)

type config struct {
	busyTimeout time.Duration
	poll        time.Duration
	log         *slog.Logger
}

// Option configures Open and New.
type Option func(*config)

// WithBusyTimeout is how long a write waits for another writer (in this or another
// process) before it fails (default 10 s). Open only: with New, set _busy_timeout (or
// PRAGMA busy_timeout) on the platform's own handle.
func WithBusyTimeout(d time.Duration) Option { return func(c *config) { c.busyTimeout = d } }

// WithPollInterval is how often a watched store looks for changes made by other handles
// (default 25 ms): the change feed's latency. A look is PRAGMA data_version on a
// connection of its own (no table read); the change table is read only when it moved.
func WithPollInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.poll = d
		}
	}
}

// WithLogger sets the logger for the store's own messages (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

func newConfig(opts []Option) config {
	c := config{busyTimeout: DefaultBusyTimeout, poll: DefaultPollInterval, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

func init() {
	store.Register("sqlite", func(ctx context.Context, dsn string, cfg store.Config) (store.Store, error) {
		path := strings.TrimPrefix(dsn[len("sqlite:"):], "//")
		return Open(ctx, path, WithLogger(cfg.Logger))
	})
}

// Open opens (creating when missing) the SQLite database at path (a file path, or a
// file: URI without query: "file:/var/lib/x.db", "file:///var/lib/x.db"), in WAL mode with a busy
// timeout, and migrates it to this package's schema version in one transaction. A
// database from a newer regcred is refused (store.ErrNewerSchema). The file is created
// with mode 0600 (its directory, when created, 0700): it holds credentials.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cfg := newConfig(opts)
	if path == "" {
		return nil, openError(path, &registry.FieldError{Field: "path", Reason: "is empty", Hint: "give the database file, e.g. sqlite:/var/lib/app/regcred.db"})
	}
	path, err := filePath(path)
	if err != nil {
		return nil, openError("", err)
	}
	if err := prepareFile(path); err != nil {
		return nil, openError(path, err)
	}
	dsn := fmt.Sprintf("%s?_busy_timeout=%d&_journal_mode=WAL&_synchronous=NORMAL&_foreign_keys=1", path, cfg.busyTimeout.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, openError(path, err)
	}
	s, err := newStore(ctx, db, true, path, cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// filePath returns the file path a path or a file: URI names. Query parameters, fragments,
// in-memory databases and other hosts are refused: the store opens files it can make 0600.
func filePath(p string) (string, error) {
	plain := &registry.FieldError{Field: "path", Reason: "must be a plain file path or a file: URI (no ?, #, :memory: or host)",
		Hint: "to use an in-memory or specially opened database, open it yourself and call sqlite.New"}
	if strings.ContainsAny(p, "?#") {
		return "", plain
	}
	if rest, ok := strings.CutPrefix(p, "file:"); ok {
		p = rest
		if strings.HasPrefix(rest, "//") {
			u, err := url.Parse("file:" + rest)
			if err != nil || u.Host != "" && u.Host != "localhost" {
				return "", plain
			}
			p = u.Path
		}
	}
	if p == "" || p == ":memory:" || strings.HasPrefix(p, ":memory:") {
		return "", plain
	}
	return p, nil
}

// prepareFile creates the directory (0700) and an empty file (0600) so that SQLite, which
// gives its WAL and shared-memory files the database file's mode, never makes them
// readable by others; an existing file readable by others is set to 0600.
func prepareFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("the file is readable by others (mode %v) and chmod failed: %w", fi.Mode().Perm(), err)
		}
	}
	return nil
}

// New uses a platform's own SQLite handle (any driver registered for database/sql that
// speaks SQLite; regcred's tables are all named regcred_*). It migrates the schema like
// Open. Close leaves db open. Give db a busy timeout (_busy_timeout, or
// _pragma=busy_timeout(10000)) when other processes write the same file.
func New(ctx context.Context, db *sql.DB, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, openError("", &registry.FieldError{Field: "db", Reason: "is nil"})
	}
	return newStore(ctx, db, false, "*sql.DB", newConfig(opts))
}

func newStore(ctx context.Context, db *sql.DB, own bool, name string, cfg config) (*Store, error) {
	s := &Store{db: db, own: own, name: name, cfg: cfg, stop: make(chan struct{}), stopped: make(chan struct{})}
	if err := db.PingContext(ctx); err != nil {
		return nil, openError(name, err)
	}
	if !own {
		// WAL lets readers run beside the writer; a platform's handle may not have it.
		var mode string
		if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err == nil && !strings.EqualFold(mode, "wal") && !strings.EqualFold(mode, "memory") {
			if _, err := db.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
				cfg.log.Warn("sqlite store: could not switch the database to WAL mode", "journal_mode", mode, "err", err)
			}
		}
	}
	if err := s.migrate(ctx); err != nil {
		return nil, openError(name, err)
	}
	return s, nil
}

// migrate applies the pending migrations in one IMMEDIATE transaction: concurrent openers
// (other processes) wait for it and then find the schema current.
func (s *Store) migrate(ctx context.Context) (err error) {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer func() {
		if err != nil {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS regcred_schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))`); err != nil {
		return fmt.Errorf("create the schema table: %w", err)
	}
	var current int
	if err := conn.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM regcred_schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("read the schema version: %w", err)
	}
	pending, err := migrate.Pending(ms, current, "the database")
	if err != nil {
		return err
	}
	for _, m := range pending {
		if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO regcred_schema_migrations (version, name) VALUES (?, ?)", m.Version, m.Name); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		s.cfg.log.Info("sqlite store: migrated", "version", m.Version, "file", m.Name)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	return nil
}

func openError(name string, err error) error {
	return &registry.Error{Op: "open sqlite store", Registry: name, Err: err}
}

// dbError wraps a database failure of op on id.
func dbError(op, id string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &registry.Error{Op: op, Registry: id, Err: fmt.Errorf("sqlite: %w", err)}
}

// DB is the database handle, for a platform's own queries and backups.
func (s *Store) DB() *sql.DB { return s.db }

// Get implements registry.Store.
func (s *Store) Get(ctx context.Context, id string) (registry.Registry, error) {
	if err := ctx.Err(); err != nil {
		return registry.Registry{}, err
	}
	var data string
	err := s.db.QueryRowContext(ctx, "SELECT record FROM regcred_registries WHERE id = ?", id).Scan(&data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.Registry{}, &registry.Error{Op: "store get", Registry: id, Err: registry.ErrNotFound}
	case err != nil:
		return registry.Registry{}, dbError("store get", id, err)
	}
	return row.Record(id, data)
}

// List implements registry.Store: sorted by ID (SQLite's BINARY collation is Go's byte
// order).
func (s *Store) List(ctx context.Context) ([]registry.Registry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT id, record FROM regcred_registries ORDER BY id")
	if err != nil {
		return nil, dbError("store list", "", err)
	}
	defer rows.Close()
	out := []registry.Registry{}
	for rows.Next() {
		var id, data string
		if err := rows.Scan(&id, &data); err != nil {
			return nil, dbError("store list", "", err)
		}
		r, err := row.Record(id, data)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("store list", "", err)
	}
	return out, nil
}

// storedVersion reads the version of id (0, false when there is none), for the error of a
// write that matched no row.
func (s *Store) storedVersion(ctx context.Context, id string) (int64, bool, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, "SELECT version FROM regcred_registries WHERE id = ?", id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return v, err == nil, err
}

// Put implements registry.Store. Each write is one statement: the version check and the
// change-feed entry (a trigger) commit together.
func (s *Store) Put(ctx context.Context, r registry.Registry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := row.Encode("store put", r)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var res sql.Result
	if r.Version == 1 {
		res, err = s.db.ExecContext(ctx, "INSERT INTO regcred_registries (id, version, record, updated_at) VALUES (?, 1, ?, ?) ON CONFLICT (id) DO NOTHING", r.ID, string(data), now)
	} else {
		res, err = s.db.ExecContext(ctx, "UPDATE regcred_registries SET version = ?, record = ?, updated_at = ? WHERE id = ? AND version = ?", r.Version, string(data), now, r.ID, r.Version-1)
	}
	if err != nil {
		return dbError("store put", r.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		s.wrote(ctx)
		return nil
	}
	return s.missed(ctx, "store put", r.ID, r.Version-1)
}

// missed explains a write that matched no row: the record is missing, or at another
// version than want (want 0: the write was a create).
func (s *Store) missed(ctx context.Context, op, id string, want int64) error {
	cur, found, err := s.storedVersion(ctx, id)
	if err != nil {
		return dbError(op, id, err)
	}
	return row.Missed(op, id, want, cur, found)
}

// Delete implements registry.Store.
func (s *Store) Delete(ctx context.Context, id string, version int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var res sql.Result
	var err error
	if version == 0 {
		res, err = s.db.ExecContext(ctx, "DELETE FROM regcred_registries WHERE id = ?", id)
	} else {
		res, err = s.db.ExecContext(ctx, "DELETE FROM regcred_registries WHERE id = ? AND version = ?", id, version)
	}
	if err != nil {
		return dbError("store delete", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		s.wrote(ctx)
		return nil
	}
	cur, found, err := s.storedVersion(ctx, id)
	if err != nil {
		return dbError("store delete", id, err)
	}
	return row.MissedDelete(id, version, cur, found)
}

// Rewrite implements registry.Rewriter: the record's stored form is replaced at the same
// version; no change is emitted (the update trigger fires only for a new version).
func (s *Store) Rewrite(ctx context.Context, r registry.Registry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := row.Encode("store rewrite", r)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, "UPDATE regcred_registries SET record = ? WHERE id = ? AND version = ?", string(data), r.ID, r.Version)
	if err != nil {
		return dbError("store rewrite", r.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return nil
	}
	return s.missed(ctx, "store rewrite", r.ID, r.Version)
}

// wrote counts a write and now and then prunes the change table to its retention.
func (s *Store) wrote(ctx context.Context) {
	if s.writes.Add(1)%1000 != 0 {
		return
	}
	if _, err := s.db.ExecContext(ctx, "DELETE FROM regcred_changes WHERE seq <= (SELECT MAX(seq) FROM regcred_changes) - ?", changeRetention); err != nil {
		s.cfg.log.Warn("sqlite store: pruning the change table failed", "err", err)
	}
}

// Close stops the change feed (watch channels close) and closes the database when Open
// opened it.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(s.stop)
	s.pollOnce.Do(func() { close(s.stopped) }) // the poller never started: nothing to wait for
	<-s.stopped
	s.hub.Close()
	if s.own {
		return s.db.Close()
	}
	return nil
}

// String names the store without its records.
func (s *Store) String() string { return "sqlite.Store{" + s.name + "}" }

// Format prints String under every verb.
func (s *Store) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue keeps slog from looking inside.
func (s *Store) LogValue() slog.Value { return slog.StringValue(s.String()) }

var errClosed = errors.New("the store is closed")
