package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/regcred/regcred/dockerconfig"
)

func init() {
	register(&command{
		name:    "dockerconfig",
		usage:   "dockerconfig [--host REGISTRY=HOST]... [REGISTRY...]",
		summary: "print the .dockerconfigjson for the registries (fresh tokens for token kinds)",
		run:     runDockerconfig,
	})
}

// hostFlags collects --host REGISTRY=HOST for wildcard registries.
type hostFlags []string

func (h *hostFlags) String() string     { return strings.Join(*h, ",") }
func (h *hostFlags) Set(v string) error { *h = append(*h, v); return nil }

func runDockerconfig(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "dockerconfig")
	var hosts hostFlags
	fs.Var(&hosts, "host", "REGISTRY=HOST: a concrete host for a wildcard registry (ECR, ACR); repeatable")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	regs, err := e.selectRegistries(fs.Args())
	if err != nil {
		return err
	}
	opts := []dockerconfig.Option{dockerconfig.WithLogger(e.logger)}
	for _, h := range hosts {
		name, host, ok := strings.Cut(h, "=")
		if !ok || name == "" || host == "" {
			return usagef("--host %q: want REGISTRY=HOST", h)
		}
		opts = append(opts, dockerconfig.WithHost(name, host))
	}
	cfg, expires, err := dockerconfig.FromRegistries(ctx, regs, e.providerFactory(), opts...)
	if err != nil {
		return err
	}
	if err := cfg.Encode(e.stdout); err != nil {
		return err
	}
	if !expires.IsZero() {
		fmt.Fprintf(e.stderr, "regcred: these credentials expire at %s; rebuild before then\n", expires.UTC().Format(time.RFC3339))
	}
	return nil
}
