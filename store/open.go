package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/regcred/regcred/registry"
)

// Store is an opened store: a registry.Store that holds resources (a database pool, a
// change-feed poller) until Close. Close is safe to call more than once.
type Store interface {
	registry.Store
	io.Closer
}

// Driver opens a store from a DSN of its scheme. It is called with the whole DSN, scheme
// included, and the options given to Open.
type Driver func(ctx context.Context, dsn string, cfg Config) (Store, error)

// Config is what Open passes to a driver: the options, applied.
type Config struct {
	// Logger gets the store's own messages (a reconnect, a migration); never nil.
	Logger *slog.Logger
}

// Option configures Open.
type Option func(*Config)

// WithLogger sets the logger drivers use (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *Config) {
		if l != nil {
			c.Logger = l
		}
	}
}

// ErrUnknownScheme: no driver is registered for the DSN's scheme (its package was not
// imported, or the DSN is mistyped).
var ErrUnknownScheme = errors.New("no store driver for this DSN scheme")

var (
	driversMu sync.RWMutex
	drivers   = map[string]Driver{}
)

// hints name the package that registers a scheme, for the error when it was not imported.
var hints = map[string]string{
	"sqlite":     "github.com/regcred/regcred/store/sqlite",
	"postgres":   "github.com/regcred/regcred/store/postgres",
	"postgresql": "github.com/regcred/regcred/store/postgres",
}

// Register makes a driver available for a DSN scheme ("sqlite" for "sqlite:PATH"). It is
// called from a driver package's init; it panics when the scheme is registered twice or
// the driver is nil, as database/sql.Register does.
func Register(scheme string, d Driver) {
	driversMu.Lock()
	defer driversMu.Unlock()
	if d == nil {
		panic("store: Register driver is nil for " + scheme)
	}
	if _, dup := drivers[scheme]; dup {
		panic("store: Register called twice for scheme " + scheme)
	}
	drivers[scheme] = d
}

// Schemes lists the registered schemes, sorted.
func Schemes() []string {
	driversMu.RLock()
	defer driversMu.RUnlock()
	out := make([]string, 0, len(drivers))
	for s := range drivers {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Scheme returns the scheme of a DSN: what comes before the first ':' ("sqlite" for
// "sqlite:/var/lib/x.db", "postgres" for "postgres://..."), lowercased.
func Scheme(dsn string) (string, error) {
	scheme, _, ok := strings.Cut(dsn, ":")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/\\ ") {
		return "", &registry.Error{Op: "open store", Err: &registry.FieldError{Field: "dsn", Reason: "has no scheme",
			Hint: "write sqlite:PATH, postgres://USER@HOST/DB, file:PATH or memory:"}}
	}
	return strings.ToLower(scheme), nil
}

// Open opens the store a DSN names, with the driver registered for its scheme. The error
// for a DSN never quotes it (it may hold a password); it names the scheme.
func Open(ctx context.Context, dsn string, opts ...Option) (Store, error) {
	cfg := Config{Logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	scheme, err := Scheme(dsn)
	if err != nil {
		return nil, err
	}
	driversMu.RLock()
	d, ok := drivers[scheme]
	driversMu.RUnlock()
	if !ok {
		hint := "known: " + strings.Join(Schemes(), ", ")
		if pkg, ok := hints[scheme]; ok {
			hint = "import _ \"" + pkg + "\" in the program to compile this driver in"
		}
		return nil, &registry.Error{Op: "open store", Registry: scheme + ":", Err: fmt.Errorf("%w %q (%s)", ErrUnknownScheme, scheme, hint)}
	}
	return d(ctx, dsn, cfg)
}

// ErrNewerSchema: the database was migrated by a newer regcred than this one. Upgrade
// this program (every replica) before it uses the database; an older program would not
// know what the newer schema means.
var ErrNewerSchema = errors.New("the database schema is newer than this regcred knows")
