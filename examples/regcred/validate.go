package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registryfile"
)

func init() {
	register(&command{
		name:    "validate",
		usage:   "validate",
		summary: "check the registries file: types, fields, URLs, TLS settings",
		run:     runValidate,
	})
}

// runValidate prints one line per registry: its name (escaped: it is typed by whoever
// wrote the file, and may hold terminal escapes), kind, server, and what was inferred when
// the entry gave no type (the product documents' shape).
func runValidate(ctx context.Context, e *env, args []string) error {
	if err := parseFlags(newFlags(e, "validate"), args); err != nil {
		return err
	}
	entries, err := registryfile.LoadEntries(e.configPath())
	if err != nil {
		return configError{err}
	}
	for _, en := range entries {
		r := en.Registry
		s, _ := r.ServerInfo()
		def := ""
		if r.Default {
			def = " (default)"
		}
		inferred := ""
		if inf := en.Inferred; inf != nil {
			inferred = "  [type inferred from the url"
			if len(inf.Fields) > 0 {
				inferred += ", and " + strings.Join(inf.Fields, ", ")
			}
			inferred += "]"
		}
		fmt.Fprintf(e.stdout, "ok  %-24s %-11s %s%s%s\n", untrusted.Text(r.Name), r.Kind, s, def, inferred)
	}
	fmt.Fprintf(e.stdout, "%s: %d registries, all valid\n", untrusted.Text(e.configPath()), len(entries))
	return nil
}
