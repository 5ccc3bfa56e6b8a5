package main

import (
	"context"
	"fmt"

	"github.com/regcred/regcred/store/sealed"
)

func init() {
	register(&command{
		name:    "reseal",
		usage:   "reseal --store DSN [--keys FILE]",
		summary: "move every record of a sealed store to the current master key (after a rotation)",
		run:     runReseal,
	})
}

// runReseal runs one re-seal pass: records sealed with an older key (or still in
// plaintext) are sealed again with the first key of the key file, keeping their versions.
func runReseal(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "reseal")
	dsn := fs.String("store", "", "the store: sqlite:PATH, postgres://USER@HOST/DB, file:PATH (required)")
	var sf storeFlags
	fs.StringVar(&sf.keys, "keys", "", "master key file, current key first (default $"+sealed.EnvKeys+")")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dsn == "" {
		return usagef("--store is required")
	}
	if sf.keys == "" && !hasEnvKeys() {
		return usagef("give the master keys with --keys FILE or $%s", sealed.EnvKeys)
	}
	s, closeStore, err := openStore(ctx, e, *dsn, sf)
	if err != nil {
		return err
	}
	defer closeStore()
	st, err := s.(*sealed.Store).Reseal(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "resealed %d records, %d already on the current key, %d retried after a concurrent write\n", st.Resealed, st.Unchanged, st.Retried)
	return nil
}
