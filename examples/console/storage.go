package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store"
	"github.com/regcred/regcred/store/postgres"
	"github.com/regcred/regcred/store/sealed"
	"github.com/regcred/regcred/store/sqlite"
)

// storage is what the console keeps its data in: the registry records (sealed: secret
// fields encrypted with the master key) and, in the same database, the console's users,
// sessions and audit log.
type storage struct {
	records  registry.Store
	accounts *accounts
	keys     *sealed.Keyring // the master keys, which also seal the clusters' kubeconfigs
	shared   bool            // replicas share the database (PostgreSQL): run controllers leader-elected
	desc     string          // for the start-up line: never a password
	closers  []io.Closer
}

func (s *storage) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i].Close())
	}
	return errors.Join(errs...)
}

// The key file the console creates in --data on first start.
const keyFileName = "master.key"

// openStorage opens the embedded SQLite database in cfg.data, or the PostgreSQL database
// of cfg.store, and seals it with the master keys: from cfg.keyFile, else REGCRED_MASTER_KEYS,
// else (SQLite only) a key file created in the data directory on first start. Replicas
// sharing a PostgreSQL database must share the key, so there the console never makes one.
func openStorage(ctx context.Context, cfg config) (_ *storage, err error) {
	s := &storage{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	isPostgres := strings.HasPrefix(cfg.store, "postgres://") || strings.HasPrefix(cfg.store, "postgresql://")
	if cfg.store != "" && !isPostgres {
		return nil, fmt.Errorf("--store %q: only postgres://... is supported (leave it out for the embedded SQLite database in --data)", registry.RedactServer(cfg.store))
	}
	if cfg.store == "" {
		if cfg.data == "" {
			return nil, errors.New("--data is empty: give the directory the console keeps its database in")
		}
		if err := os.MkdirAll(cfg.data, 0o700); err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
	}
	keys, err := loadKeys(cfg) // first: a replica without the shared key never touches the database
	if err != nil {
		return nil, err
	}
	var inner store.Store
	var db *sql.DB
	switch {
	case cfg.store == "":
		st, err := sqlite.Open(ctx, filepath.Join(cfg.data, "regcred.db"))
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, st)
		inner, db = st, st.DB()
		s.desc = "sqlite:" + filepath.Join(cfg.data, "regcred.db")
	default:
		st, err := postgres.Open(ctx, cfg.store)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, st)
		db = stdlib.OpenDBFromPool(st.Pool())
		s.closers = append(s.closers, db)
		inner = st
		s.desc = "postgres: " + registry.RedactServer(cfg.store)
	}
	s.keys, s.shared = keys, isPostgres
	sl, err := sealed.New(ctx, inner, keys)
	if err != nil {
		return nil, err
	}
	s.records = sl
	if s.accounts, err = openAccounts(ctx, db); err != nil {
		return nil, err
	}
	return s, nil
}

// loadKeys finds the master keys as openStorage says.
func loadKeys(cfg config) (*sealed.Keyring, error) {
	if cfg.keyFile != "" {
		return sealed.KeysFromFile(cfg.keyFile)
	}
	if v := strings.TrimSpace(os.Getenv(sealed.EnvKeys)); v != "" {
		return sealed.KeysFromEnv(sealed.EnvKeys)
	}
	if cfg.store != "" {
		return nil, errors.New("--store postgres://... needs the master key every replica shares: give --key-file FILE (one line ID=BASE64 of 32 random bytes: head -c 32 /dev/urandom | base64) or set " + sealed.EnvKeys)
	}
	path := filepath.Join(cfg.data, keyFileName)
	k, err := sealed.KeysFromFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	// First start: create the key, 0600, refusing to overwrite one made meanwhile.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create the master key: %w", err)
	}
	_, werr := fmt.Fprintln(f, sealed.GenerateKey(""))
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("write the master key: %w", err)
	}
	return sealed.KeysFromFile(path)
}
