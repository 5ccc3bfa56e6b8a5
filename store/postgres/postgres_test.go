package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store"
	"github.com/regcred/regcred/store/postgres"
	"github.com/regcred/regcred/store/storetest"
)

func TestMain(m *testing.M) {
	if dsn := os.Getenv(holderEnv); dsn != "" {
		// This binary was started as a lease holder process (lease_test.go).
		if err := holder(dsn); err != nil {
			fmt.Fprintln(os.Stderr, "holder:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	testenv.PostgresMain(m)
}

// newDB returns the DSN of a fresh database on the shared server.
func newDB(t testing.TB) (*testenv.Postgres, string, string) {
	t.Helper()
	pg := testenv.StartPostgres(t)
	db := pg.Database(t, "regcred")
	return pg, db, pg.DSN(db)
}

func open(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	dsns := map[registry.Store]string{}
	storetest.Run(t, func(t *testing.T) registry.Store {
		_, _, dsn := newDB(t)
		s := open(t, dsn)
		dsns[s] = dsn
		return s
	}, storetest.WithReopen(func(t *testing.T, s registry.Store) registry.Store {
		return open(t, dsns[s])
	}))
}

func TestOpenThroughDSN(t *testing.T) {
	_, _, dsn := newDB(t)
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*postgres.Store); !ok {
		t.Fatalf("store.Open gave %T; want *postgres.Store", s)
	}
	// The error for a broken DSN never quotes it: it may hold a password.
	_, err = store.Open(context.Background(), "postgres://user:hunter2@[::1")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("bad DSN: %v", err)
	}
}

func TestSchemaVersionAndNewerRefused(t *testing.T) {
	pg, db, dsn := newDB(t)
	s := open(t, dsn)
	out, err := pg.SQL(db, "SELECT MAX(version) FROM regcred_schema_migrations")
	if err != nil || strings.TrimSpace(out) != "2" || postgres.SchemaVersion() != 2 {
		t.Fatalf("schema version %q, %v", out, err)
	}
	open(t, dsn) // a second opener applies nothing twice
	if _, err := pg.SQL(db, "INSERT INTO regcred_schema_migrations (version, name) VALUES (3, '003_future.sql')"); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(context.Background(), dsn)
	if !errors.Is(err, store.ErrNewerSchema) || !strings.Contains(err.Error(), "upgrade regcred") {
		t.Fatalf("open of a newer schema: %v; want ErrNewerSchema saying what to do", err)
	}
	_ = s
}

// Replicas opening one empty database at the same time migrate it once.
func TestConcurrentOpenersMigrateOnce(t *testing.T) {
	pg, db, dsn := newDB(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := postgres.Open(context.Background(), dsn)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	out, err := pg.SQL(db, "SELECT count(*) FROM regcred_schema_migrations")
	if err != nil || strings.TrimSpace(out) != strconv.Itoa(postgres.SchemaVersion()) {
		t.Fatalf("%q migration rows, %v", out, err)
	}
}

// The listener reconnects after its connection is killed and tells watchers to resync;
// changes after that arrive again.
func TestFeedResyncAfterDroppedConnection(t *testing.T) {
	pg, db, dsn := newDB(t)
	s := open(t, dsn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := s.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pg.SQL(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'regcred-listen' AND datname = current_database()"); err != nil {
		t.Fatal(err)
	}
	next := func() registry.Change {
		t.Helper()
		select {
		case c := <-ch:
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("no change within 10s")
		}
		return registry.Change{}
	}
	if c := next(); c.Op != registry.ChangeResync {
		t.Fatalf("after the dropped connection: %+v; want a resync", c)
	}
	if err := s.Put(ctx, storetest.Record("a", 1)); err != nil {
		t.Fatal(err)
	}
	if c := next(); c != (registry.Change{Op: registry.ChangePut, ID: "a", Version: 1}) {
		t.Fatalf("after reconnecting: %+v; want the put", c)
	}
}

// A platform's own pool: the store uses it and leaves it open on Close.
func TestNewOnPlatformPool(t *testing.T) {
	_, _, dsn := newDB(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s, err := postgres.New(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, storetest.Record("a", 1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM regcred_registries").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after Close the platform's pool reads %d records, %v", n, err)
	}
}
