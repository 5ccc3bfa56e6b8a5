package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/regcred/regcred/compose"
)

func init() {
	register(&command{
		name:    "compose-pull",
		usage:   "compose-pull -f compose.yaml [-f override.yaml]... [--profile P]... [--concurrency N] [--via engine|docker-compose|docker-compose-v2] [--docker-host URL]",
		summary: "pull a compose project's images with the saved registries' credentials (Engine API, or docker compose with an isolated DOCKER_CONFIG)",
		run:     runComposePull,
	})
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func runComposePull(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "compose-pull")
	var files, profiles, envFiles listFlag
	fs.Var(&files, "f", "compose file; repeatable, later files override earlier ones (default compose.yaml)")
	fs.Var(&profiles, "profile", "compose profile to activate; repeatable (default $COMPOSE_PROFILES)")
	fs.Var(&envFiles, "env-file", "env file for interpolation; repeatable (default .env in the project directory)")
	projectDir := fs.String("project-directory", "", "project directory (default the first file's)")
	concurrency := fs.Int("concurrency", compose.DefaultConcurrency, "engine pulls in flight at once")
	via := fs.String("via", "engine", "engine: pull through the Engine API; docker-compose or docker-compose-v2 (docker compose): run that pull with an isolated DOCKER_CONFIG")
	dockerHost := fs.String("docker-host", "", "Docker daemon (default $DOCKER_HOST, else the local socket)")
	quiet := fs.Bool("q", false, "print only failures and the summary")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *concurrency < 1 {
		return usagef("--concurrency must be at least 1")
	}
	if len(files) == 0 {
		files = listFlag{"compose.yaml"}
	}
	opts := []compose.LoadOption{compose.WithProfiles(profiles...), compose.WithEnvFiles(envFiles...)}
	if *projectDir != "" {
		opts = append(opts, compose.WithWorkingDir(*projectDir))
	}
	p, err := compose.Load(ctx, files, opts...)
	if err != nil {
		return err
	}
	kc, err := e.keychain()
	if err != nil {
		return err
	}
	for _, s := range p.Skipped {
		if !*quiet {
			fmt.Fprintf(e.stderr, "skip     %s: %s\n", s.Service, s.Reason)
		}
	}
	switch *via {
	case "engine":
		return composePullEngine(ctx, e, p, kc, *dockerHost, *concurrency, *quiet)
	case "docker-compose", "docker-compose-v2":
		return composePullCLI(ctx, e, p, kc, files, profiles, *via, *dockerHost)
	}
	return usagef("--via %q: want engine, docker-compose or docker-compose-v2", *via)
}

// composePullEngine pulls through the Engine API and shows one line per image as it
// starts and ends.
func composePullEngine(ctx context.Context, e *env, p *compose.Project, kc compose.Keychain, host string, n int, quiet bool) error {
	cli, err := engineClient(host)
	if err != nil {
		return err
	}
	defer cli.Close()
	progress := func(ev compose.Event) {
		switch {
		case ev.Kind == compose.EventStart && !quiet:
			fmt.Fprintf(e.stderr, "pulling  %s\n", ev.Ref)
		case ev.Kind == compose.EventDone:
			r := ev.Result
			switch {
			case r.Status == compose.Failed && r.Image.Buildable:
				fmt.Fprintf(e.stderr, "failed   %s (compose can build it instead): %v\n", ev.Ref, r.Err)
			case r.Status == compose.Failed:
				fmt.Fprintf(e.stderr, "FAILED   %s: %v\n", ev.Ref, r.Err)
			case !quiet:
				fmt.Fprintf(e.stderr, "%-8s %s %s(%s)\n", r.Status, ev.Ref, digestNote(r.Digest), r.Duration.Round(10*time.Millisecond))
			}
		}
	}
	results, err := compose.PrePull(ctx, cli, kc, p.Images, compose.WithConcurrency(n), compose.WithProgress(progress), compose.WithLogger(e.logger))
	counts := map[compose.Status]int{}
	for _, r := range results {
		counts[r.Status]++
	}
	fmt.Fprintf(e.stdout, "%s: %d pulled, %d already present, %d failed, %d services skipped\n",
		p.Name, counts[compose.Pulled], counts[compose.Present], counts[compose.Failed], len(p.Skipped))
	if err != nil {
		return failedError{err.Error()}
	}
	return nil
}

func digestNote(d string) string {
	if d == "" {
		return ""
	}
	return d + " "
}

// composePullCLI runs docker-compose (or docker compose) pull with an isolated
// DOCKER_CONFIG holding exactly the project's credentials, removed afterwards.
func composePullCLI(ctx context.Context, e *env, p *compose.Project, kc compose.Keychain, files, profiles []string, via, host string) error {
	cd, cleanup, err := compose.WriteConfigDir(ctx, kc, p.Images)
	if err != nil {
		return err
	}
	defer cleanup()
	for _, pe := range cd.Problems {
		fmt.Fprintf(e.stderr, "FAILED   %v\n", pe)
	}
	bin, args := "docker-compose", []string{}
	if via == "docker-compose-v2" {
		bin, args = "docker", []string{"compose"}
	}
	for _, f := range files {
		args = append(args, "-f", f)
	}
	args = append(args, "pull")
	cmd := exec.CommandContext(ctx, bin, args...)
	env := make([]string, 0, len(os.Environ())+3)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_CONFIG=") && !(host != "" && strings.HasPrefix(kv, "DOCKER_HOST=")) {
			env = append(env, kv)
		}
	}
	env = append(env, cd.Env()...)
	if host != "" {
		env = append(env, "DOCKER_HOST="+host)
	}
	if len(profiles) > 0 {
		env = append(env, "COMPOSE_PROFILES="+strings.Join(profiles, ","))
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = e.stdout, e.stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s pull with credentials for %s: %w", strings.Join(append([]string{bin}, args[:len(args)-1]...), " "), strings.Join(cd.Servers, ", "), err)
	}
	if len(cd.Problems) > 0 {
		return failedError{"some registries' credentials could not be resolved"}
	}
	return nil
}
