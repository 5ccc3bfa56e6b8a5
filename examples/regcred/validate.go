package main

import (
	"context"
	"fmt"
)

func init() {
	register(&command{
		name:    "validate",
		usage:   "validate",
		summary: "check the registries file: types, fields, URLs, TLS settings",
		run:     runValidate,
	})
}

func runValidate(ctx context.Context, e *env, args []string) error {
	if err := parseFlags(newFlags(e, "validate"), args); err != nil {
		return err
	}
	regs, err := e.registries()
	if err != nil {
		return err
	}
	for _, r := range regs {
		s, _ := r.ServerInfo()
		def := ""
		if r.Default {
			def = " (default)"
		}
		fmt.Fprintf(e.stdout, "ok  %-24s %-11s %s%s\n", r.Name, r.Kind, s, def)
	}
	fmt.Fprintf(e.stdout, "%s: %d registries, all valid\n", e.configPath(), len(regs))
	return nil
}
