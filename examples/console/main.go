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
	"strings"
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

	secureCookie bool
	allowedHosts string
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

// allowedHosts is --allowed-hosts, or for a loopback --addr the loopback names (a page
// on another site can rebind its name to 127.0.0.1, never make the browser send
// "Host: localhost").
func allowedHosts(cfg config) []string {
	var out []string
	for _, h := range strings.Split(cfg.allowedHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	if len(out) > 0 {
		return out
	}
	host, _, err := net.SplitHostPort(cfg.addr)
	if err != nil {
		return nil
	}
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		return []string{"localhost", "127.0.0.1", "::1"}
	}
	return nil
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
	fs.BoolVar(&cfg.secureCookie, "secure-cookie", false, "mark the session cookie Secure over plain HTTP too: the console sits behind a TLS-terminating proxy")
	fs.StringVar(&cfg.allowedHosts, "allowed-hosts", "", "comma-separated host names the console answers to (DNS rebinding); default: localhost, 127.0.0.1 and ::1 when --addr is a loopback address, else any")
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
	var opts []appOption
	if cfg.secureCookie {
		opts = append(opts, withSecureCookie())
	}
	if hosts := allowedHosts(cfg); len(hosts) > 0 {
		opts = append(opts, withAllowedHosts(hosts...))
	}
	app, err := newApp(ctx, st, log, opts...)
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
