package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store"
	"github.com/regcred/regcred/store/internal/feed"
	"github.com/regcred/regcred/store/internal/migrate"
	"github.com/regcred/regcred/store/internal/row"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

var migrations = sync.OnceValues(func() ([]migrate.Migration, error) { return migrate.Load(migrationFiles, "migrations") })

// SchemaVersion is the schema version this package migrates a database to (the same
// numbers as store/sqlite).
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		panic(err) // the embedded files are part of the build
	}
	return migrate.Latest(ms)
}

// notifyChannel is the LISTEN/NOTIFY channel of the change feed.
const notifyChannel = "regcred_changes"

// Store is a registry.Store in a PostgreSQL database, shared by every replica of a
// platform. It also implements registry.Watcher (LISTEN/NOTIFY), registry.Rewriter and
// registry.HealthStore, and hands out leader leases (Acquire) whose fencing number guards
// writes (Fenced). It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	own  bool
	name string // host/database, for String; never the password
	cfg  config

	hub     feed.Hub
	listen  sync.Mutex // guards starting the listener
	running bool
	stop    context.CancelFunc
	done    chan struct{}
	closed  atomic.Bool
}

var (
	_ registry.Store       = (*Store)(nil)
	_ registry.Watcher     = (*Store)(nil)
	_ registry.Rewriter    = (*Store)(nil)
	_ registry.HealthStore = (*Store)(nil)
	_ store.Store          = (*Store)(nil)
)

type config struct {
	log       *slog.Logger
	keepAlive time.Duration
}

// Option configures Open and New.
type Option func(*config)

// WithLogger sets the logger for the store's own messages (a lost listener connection,
// a migration); default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

func newConfig(opts []Option) config {
	c := config{log: slog.New(slog.DiscardHandler), keepAlive: 15 * time.Second}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

func init() {
	d := func(ctx context.Context, dsn string, cfg store.Config) (store.Store, error) {
		return Open(ctx, dsn, WithLogger(cfg.Logger))
	}
	store.Register("postgres", d)
	store.Register("postgresql", d)
}

// Open connects a pool to the database the DSN names (a postgres:// URL or a key=value
// string, as pgx parses it) and migrates it to this package's schema version. Close
// closes the pool.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors may quote the DSN, password included: say what, not which.
		return nil, openError("", fmt.Errorf("the DSN does not parse: write postgres://USER@HOST:PORT/DB?sslmode=...: %w", registry.ErrInvalid))
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, openError(pcfg.ConnConfig.Host, err)
	}
	s, err := newStore(ctx, pool, true, newConfig(opts))
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// New uses a platform's own pool (regcred's tables are all named regcred_*) and migrates
// the schema like Open. Close leaves the pool open.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, openError("", &registry.FieldError{Field: "pool", Reason: "is nil"})
	}
	return newStore(ctx, pool, false, newConfig(opts))
}

func newStore(ctx context.Context, pool *pgxpool.Pool, own bool, cfg config) (*Store, error) {
	cc := pool.Config().ConnConfig
	s := &Store{pool: pool, own: own, cfg: cfg, name: fmt.Sprintf("%s:%d/%s", cc.Host, cc.Port, cc.Database)}
	if err := s.migrate(ctx); err != nil {
		return nil, openError(s.name, err)
	}
	return s, nil
}

// migrate applies the pending migrations in one transaction, serialized across replicas
// by a transaction-level advisory lock.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('regcred_schema_migrations', 0))"); err != nil {
			return fmt.Errorf("lock for migration: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS regcred_schema_migrations (
			version    integer     NOT NULL PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create the schema table: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM regcred_schema_migrations").Scan(&current); err != nil {
			return fmt.Errorf("read the schema version: %w", err)
		}
		pending, err := migrate.Pending(ms, current, "the database")
		if err != nil {
			return err
		}
		for _, m := range pending {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO regcred_schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			s.cfg.log.Info("postgres store: migrated", "version", m.Version, "file", m.Name)
		}
		return nil
	})
}

func openError(name string, err error) error {
	return &registry.Error{Op: "open postgres store", Registry: name, Err: err}
}

// dbError wraps a database failure of op on id; an unreachable server is
// registry.ErrUnavailable.
func dbError(op, id string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) && !errors.Is(err, ErrFenced) {
		err = fmt.Errorf("%w: %w", registry.ErrUnavailable, err)
	}
	return &registry.Error{Op: op, Registry: id, Err: fmt.Errorf("postgres: %w", err)}
}

// Pool is the connection pool, for a platform's own queries.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// querier is a pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Get implements registry.Store.
func (s *Store) Get(ctx context.Context, id string) (registry.Registry, error) {
	if err := ctx.Err(); err != nil {
		return registry.Registry{}, err
	}
	var data string
	err := s.pool.QueryRow(ctx, "SELECT record FROM regcred_registries WHERE id = $1", id).Scan(&data)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return registry.Registry{}, &registry.Error{Op: "store get", Registry: id, Err: registry.ErrNotFound}
	case err != nil:
		return registry.Registry{}, dbError("store get", id, err)
	}
	return row.Record(id, data)
}

// List implements registry.Store: sorted by ID byte-wise (COLLATE "C", whatever the
// database's collation).
func (s *Store) List(ctx context.Context) ([]registry.Registry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id, record FROM regcred_registries ORDER BY id COLLATE "C"`)
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

// Put implements registry.Store. Each write is one statement; its NOTIFY (a trigger) is
// delivered when it commits.
func (s *Store) Put(ctx context.Context, r registry.Registry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return put(ctx, s.pool, r)
}

func put(ctx context.Context, q querier, r registry.Registry) error {
	data, err := row.Encode("store put", r)
	if err != nil {
		return err
	}
	var tag pgconn.CommandTag
	if r.Version == 1 {
		tag, err = q.Exec(ctx, "INSERT INTO regcred_registries (id, version, record) VALUES ($1, 1, $2) ON CONFLICT (id) DO NOTHING", r.ID, string(data))
	} else {
		tag, err = q.Exec(ctx, "UPDATE regcred_registries SET version = $1, record = $2, updated_at = now() WHERE id = $3 AND version = $4", r.Version, string(data), r.ID, r.Version-1)
	}
	if err != nil {
		return dbError("store put", r.ID, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	return missed(ctx, q, "store put", r.ID, r.Version-1)
}

// missed explains a write that matched no row: the record is missing, or at another
// version than want (want 0: the write was a create).
func missed(ctx context.Context, q querier, op, id string, want int64) error {
	cur, found, err := storedVersion(ctx, q, id)
	if err != nil {
		return dbError(op, id, err)
	}
	return row.Missed(op, id, want, cur, found)
}

// storedVersion reads the version of id (found false when there is no row), for the error
// of a write that matched no row.
func storedVersion(ctx context.Context, q querier, id string) (int64, bool, error) {
	var v int64
	err := q.QueryRow(ctx, "SELECT version FROM regcred_registries WHERE id = $1", id).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	return v, err == nil, err
}

// Delete implements registry.Store.
func (s *Store) Delete(ctx context.Context, id string, version int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return del(ctx, s.pool, id, version)
}

func del(ctx context.Context, q querier, id string, version int64) error {
	var tag pgconn.CommandTag
	var err error
	if version == 0 {
		tag, err = q.Exec(ctx, "DELETE FROM regcred_registries WHERE id = $1", id)
	} else {
		tag, err = q.Exec(ctx, "DELETE FROM regcred_registries WHERE id = $1 AND version = $2", id, version)
	}
	if err != nil {
		return dbError("store delete", id, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	cur, found, err := storedVersion(ctx, q, id)
	if err != nil {
		return dbError("store delete", id, err)
	}
	return row.MissedDelete(id, version, cur, found)
}

// Rewrite implements registry.Rewriter: the stored form is replaced at the same version,
// and nothing is announced (the trigger skips an update that keeps the version).
func (s *Store) Rewrite(ctx context.Context, r registry.Registry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return rewrite(ctx, s.pool, r)
}

func rewrite(ctx context.Context, q querier, r registry.Registry) error {
	data, err := row.Encode("store rewrite", r)
	if err != nil {
		return err
	}
	tag, err := q.Exec(ctx, "UPDATE regcred_registries SET record = $1 WHERE id = $2 AND version = $3", string(data), r.ID, r.Version)
	if err != nil {
		return dbError("store rewrite", r.ID, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	return missed(ctx, q, "store rewrite", r.ID, r.Version)
}

// Close stops the change feed (watch channels close) and closes the pool when Open made
// it. Leases are not released: Release them first.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.listen.Lock()
	if s.running {
		s.stop()
		<-s.done
		s.running = false
	}
	s.listen.Unlock()
	s.hub.Close()
	if s.own {
		s.pool.Close()
	}
	return nil
}

// String names the store (host, port, database) without credentials or records.
func (s *Store) String() string { return "postgres.Store{" + s.name + "}" }

// Format prints String under every verb.
func (s *Store) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue keeps slog from looking inside.
func (s *Store) LogValue() slog.Value { return slog.StringValue(s.String()) }

var errClosed = errors.New("the store is closed")
