package main

import (
	"context"
	"encoding/json"

	"github.com/regcred/regcred/registry"
)

func init() {
	register(&command{
		name:    "schema",
		usage:   "schema [-type TYPE]",
		summary: "print the add-registry form of every registry type as JSON (for a UI to render)",
		run:     runSchema,
	})
}

// runSchema prints registry.FormSchema as indented JSON on stdout: the kinds, each with
// its type key and its inputs (name, label, help, type, required, ...). It needs no
// registries file.
func runSchema(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "schema")
	typ := fs.String("type", "", "print only this registry type (GHCR, Docker, ECR, ...)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("schema takes no arguments")
	}
	s := registry.FormSchema()
	if *typ != "" {
		k, err := registry.ParseKind(*typ)
		if err != nil {
			return usagef("-type: %v", err)
		}
		s.Kinds = []registry.KindSchema{k.Schema()}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}
