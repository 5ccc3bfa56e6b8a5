package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registry/conntest"
)

func init() {
	register(&command{
		name:    "test",
		usage:   "test [--json] [--image REF] [--push REPO] [--timeout 30s] [REGISTRY...]",
		summary: "test each registry live: DNS, TCP, TLS, /v2/, credentials, optionally an image",
		run:     runTest,
	})
}

func runTest(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "test")
	asJSON := fs.Bool("json", false, "print the reports as JSON")
	image := fs.String("image", "", "also check that this image exists and may be pulled (only with one registry)")
	push := fs.String("push", "", "also check that this repository accepts pushes (only with one registry)")
	timeout := fs.Duration("timeout", 30*time.Second, "time limit for each registry's test")
	concurrency := fs.Int("concurrency", 8, "registries tested at once")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	regs, err := e.selectRegistries(fs.Args())
	if err != nil {
		return err
	}
	if len(regs) == 0 {
		return fmt.Errorf("%s holds no registries", e.configPath())
	}
	if (*image != "" || *push != "") && len(regs) != 1 {
		return usagef("--image and --push need exactly one registry named on the command line")
	}
	opts := []conntest.Option{
		conntest.WithFactory(e.providerFactory()),
		conntest.WithTimeout(*timeout),
		conntest.WithConcurrency(*concurrency),
		conntest.WithLogger(e.logger),
	}
	if *image != "" {
		opts = append(opts, conntest.WithImage(*image))
	}
	if *push != "" {
		opts = append(opts, conntest.WithPush(*push))
	}
	reports := conntest.TestAll(ctx, regs, opts...)
	failed := 0
	for _, r := range reports {
		if !r.OK() {
			failed++
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(reports); err != nil {
			return err
		}
	} else {
		for i, r := range reports {
			if i > 0 {
				fmt.Fprintln(e.stdout)
			}
			fmt.Fprint(e.stdout, r.String())
		}
		fmt.Fprintf(e.stdout, "\n%d of %d registries passed\n", len(reports)-failed, len(reports))
	}
	if failed > 0 {
		names := make([]string, 0, failed)
		for _, r := range reports {
			if !r.OK() {
				names = append(names, untrusted.Text(r.Registry))
			}
		}
		return failedError{"failed: " + strings.Join(names, ", ")}
	}
	return nil
}
