package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	addr     string
	data     string
	store    string
	keyFile  string
	tlsCert  string
	tlsKey   string
	password string // REGCRED_CONSOLE_PASSWORD
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "regcred console:", err)
		os.Exit(1)
	}
}

func defaultDataDir() string {
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "regcred-console")
	}
	return "regcred-console"
}

// run parses args, opens the storage and serves until ctx ends. ready, when not nil, gets
// the listening address once the console answers.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&cfg.data, "data", defaultDataDir(), "directory of the embedded SQLite database and its master key")
	fs.StringVar(&cfg.store, "store", "", "postgres://... to share the registries between replicas (needs --key-file or REGCRED_MASTER_KEYS)")
	fs.StringVar(&cfg.keyFile, "key-file", "", "master key file (ID=BASE64 lines, mode 0600); default: "+keyFileName+" in --data, created on first start")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "the key of --tls-cert (PEM)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: console [--addr HOST:PORT] [--data DIR | --store postgres://...] [--key-file FILE]")
		fmt.Fprintln(stderr, "The admin password comes from REGCRED_CONSOLE_PASSWORD, or is generated at first start and printed once.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	cfg.password = getenv("REGCRED_CONSOLE_PASSWORD")
	log := slog.New(slog.NewTextHandler(stderr, nil))

	st, err := openStorage(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	app, err := newApp(ctx, st, log)
	if err != nil {
		return err
	}
	defer app.Close()
	generated, err := app.ensureAdmin(ctx, cfg.password)
	if err != nil {
		return err
	}
	if generated != "" {
		fmt.Fprintf(stdout, "regcred console: created the user %q with the password\n\n    %s\n\nIt is printed this once (only its hash is stored); set REGCRED_CONSOLE_PASSWORD to choose one.\n\n", adminUser, generated)
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           app.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute, // a connection test may take 30 s
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if cfg.tlsCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "regcred console on %s://%s (store: %s)\n", scheme, ln.Addr(), st.desc)
	errc := make(chan error, 1)
	go func() {
		if cfg.tlsCert != "" {
			errc <- srv.ServeTLS(ln, cfg.tlsCert, cfg.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
