package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"time"

	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store"
	"github.com/regcred/regcred/store/sealed"

	_ "github.com/regcred/regcred/store/postgres" // postgres:// DSNs
	_ "github.com/regcred/regcred/store/sqlite"   // sqlite: DSNs
)

func init() {
	register(&command{
		name:    "import",
		usage:   "import --to DSN [--keys FILE] [--dry-run]",
		summary: "copy the registries file into a store (sqlite:PATH, postgres://..., file:PATH)",
		run:     runImport,
	})
}

// storeFlags are the flags of a command that opens a store.
type storeFlags struct {
	keys string
}

// openStore opens the store a DSN names, sealed when keys are given (--keys FILE, else
// $REGCRED_MASTER_KEYS). A sealed store opened without keys is refused: import would
// write plaintext beside ciphertext, export would print ciphertext.
func openStore(ctx context.Context, e *env, dsn string, f storeFlags) (registry.Store, func(), error) {
	s, err := store.Open(ctx, dsn, store.WithLogger(e.logger))
	if err != nil {
		return nil, nil, err
	}
	closer := func() { s.Close() }
	var keys *sealed.Keyring
	switch {
	case f.keys != "":
		keys, err = sealed.KeysFromFile(f.keys)
	case hasEnvKeys():
		keys, err = sealed.KeysFromEnv("")
	default:
		if _, err := s.Get(ctx, sealed.KeyCheckID); err == nil {
			closer()
			return nil, nil, usagef("the store is sealed: give its master keys with --keys FILE or $%s", sealed.EnvKeys)
		}
		return s, closer, nil
	}
	if err != nil {
		closer()
		return nil, nil, err
	}
	ss, err := sealed.New(ctx, s, keys, sealed.WithLogger(e.logger))
	if err != nil {
		closer()
		return nil, nil, err
	}
	return ss, closer, nil
}

func hasEnvKeys() bool { return os.Getenv(sealed.EnvKeys) != "" }

// sameContent reports whether two records hold the same settings (versions and times
// aside).
func sameContent(a, b registry.Registry) bool {
	return a.Name == b.Name && a.Kind == b.Kind && a.Server == b.Server && a.Default == b.Default &&
		a.Owner == b.Owner && a.TLS == b.TLS && maps.Equal(a.Fields, b.Fields) &&
		(a.Mirror == nil) == (b.Mirror == nil) && (a.Mirror == nil || *a.Mirror == *b.Mirror)
}

// runImport creates each registry of the file in the store, or updates it (a new version)
// when its settings differ; identical ones are left alone, so running it again writes
// nothing. Records in the store that the file does not name are kept.
func runImport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "import")
	to := fs.String("to", "", "the store: sqlite:PATH, postgres://USER@HOST/DB, file:PATH (required)")
	var sf storeFlags
	fs.StringVar(&sf.keys, "keys", "", "master key file: seal the secret fields (default $"+sealed.EnvKeys+" when set)")
	dry := fs.Bool("dry-run", false, "say what would change, write nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *to == "" {
		return usagef("--to is required")
	}
	regs, err := e.registries()
	if err != nil {
		return err
	}
	if err := registry.ValidateMirrors(regs); err != nil {
		return configError{err}
	}
	s, closeStore, err := openStore(ctx, e, *to, sf)
	if err != nil {
		return err
	}
	defer closeStore()
	now := time.Now().UTC()
	var created, updated, same int
	for _, r := range regs {
		cur, err := s.Get(ctx, r.ID)
		verb := ""
		switch {
		case errors.Is(err, registry.ErrNotFound):
			r.Version, r.Created, r.Updated = 1, now, now
			verb = "create"
			created++
		case err != nil:
			return err
		case sameContent(cur, r):
			same++
			continue
		default:
			r.Version, r.Created, r.Updated = cur.Version+1, cur.Created, now
			verb = "update"
			updated++
		}
		if *dry {
			fmt.Fprintf(e.stdout, "would %s %s (%s)\n", verb, untrusted.Text(r.Name), untrusted.Text(r.ID))
			continue
		}
		if err := s.Put(ctx, r); err != nil {
			return fmt.Errorf("%s %s: %w", verb, untrusted.Text(r.Name), err)
		}
		fmt.Fprintf(e.stdout, "%sd %s (%s)\n", verb, untrusted.Text(r.Name), untrusted.Text(r.ID))
	}
	what := "imported"
	if *dry {
		what = "would import"
	}
	fmt.Fprintf(e.stdout, "%s %d registries: %d created, %d updated, %d unchanged\n", what, len(regs), created, updated, same)
	return nil
}
