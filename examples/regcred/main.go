package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/regcred/regcred/providers"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/keychain"
	"github.com/regcred/regcred/registryfile"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
	exitConfig = 3
)

// command is one subcommand; each lives in the file named after it and registers itself.
type command struct {
	name    string
	usage   string // "name [flags] ARGS"
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("regcred: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// env is what every command gets: its output streams and the lazily loaded registries.
type env struct {
	stdout, stderr io.Writer
	configFlag     string
	logger         *slog.Logger

	regs    []registry.Registry
	regsErr error
	loaded  bool
}

// configPath is the registries file in use.
func (e *env) configPath() string { return registryfile.Path(e.configFlag) }

// registries loads the registries file once.
func (e *env) registries() ([]registry.Registry, error) {
	if !e.loaded {
		e.loaded = true
		e.regs, e.regsErr = registryfile.Load(e.configPath())
		if e.regsErr != nil {
			e.regsErr = configError{e.regsErr}
		}
	}
	return e.regs, e.regsErr
}

// providerFactory resolves every kind of registry, token kinds included.
func (e *env) providerFactory(opts ...providers.Option) registry.ProviderFactory {
	return providers.Factory(append([]providers.Option{providers.WithLogger(e.logger)}, opts...)...)
}

// keychain maps image references to the registries file's entries.
func (e *env) keychain() (*keychain.Keychain, error) {
	regs, err := e.registries()
	if err != nil {
		return nil, err
	}
	return keychain.New(regs, keychain.WithProviderFactory(e.providerFactory()), keychain.WithLogger(e.logger))
}

// selectRegistries returns the registries named (by id or name) in names, or all of them.
func (e *env) selectRegistries(names []string) ([]registry.Registry, error) {
	regs, err := e.registries()
	if err != nil || len(names) == 0 {
		return regs, err
	}
	var out []registry.Registry
	for _, n := range names {
		found := false
		for _, r := range regs {
			if r.ID == n || strings.EqualFold(r.Name, n) {
				out = append(out, r)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("no registry named %q in %s (%w)", n, e.configPath(), registry.ErrNotFound)
		}
	}
	return out, nil
}

// usageError marks an error as a usage problem (exit 2).
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// configError marks a registries-file problem (exit 3).
type configError struct{ err error }

func (c configError) Error() string { return c.err.Error() }
func (c configError) Unwrap() error { return c.err }

// failedError marks a command that ran but whose verdict is failure (exit 1) and that has
// already printed its own report.
type failedError struct{ msg string }

func (f failedError) Error() string { return f.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it parses the global flags, finds the command and maps
// its error to an exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("regcred", flag.ContinueOnError)
	fs.SetOutput(stderr)
	e := &env{stdout: stdout, stderr: stderr}
	fs.StringVar(&e.configFlag, "f", "", "registries file (default $REGCRED_CONFIG, else "+registryfile.DefaultPath()+")")
	verbose := fs.Bool("v", false, "log what happens (never secrets) to stderr")
	fs.Usage = func() { printUsage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	e.logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if fs.NArg() == 0 {
		printUsage(stderr, fs)
		return exitUsage
	}
	name := fs.Arg(0)
	if name == "help" {
		printUsage(stdout, fs)
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "regcred: unknown command %q; run 'regcred help'\n", name)
		return exitUsage
	}
	err := c.run(ctx, e, fs.Args()[1:])
	var ue usageError
	var ce configError
	var fe failedError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "regcred %s: %v\nusage: regcred %s\n", name, err, c.usage)
		return exitUsage
	case errors.As(err, &ce):
		if ps := registryfile.Problems(ce.err); len(ps) > 1 {
			fmt.Fprintf(stderr, "regcred %s: the registries file has %d problems:\n", name, len(ps))
			for _, p := range ps {
				fmt.Fprintf(stderr, "  %v\n", p)
			}
			return exitConfig
		}
		fmt.Fprintf(stderr, "regcred %s: %v\n", name, err)
		return exitConfig
	case errors.As(err, &fe):
		return exitFailed
	default:
		fmt.Fprintf(stderr, "regcred %s: %v\n", name, err)
		return exitFailed
	}
}

func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "usage: regcred [-f FILE] [-v] COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nglobal flags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintln(w, "\nexit codes: 0 ok, 1 failed, 2 usage error, 3 registries file missing or invalid")
}

// newFlags makes a command's flag set that reports to stderr.
func newFlags(e *env, c string) *flag.FlagSet {
	fs := flag.NewFlagSet(c, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseFlags parses and turns a flag error into a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}
