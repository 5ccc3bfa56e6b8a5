package keeper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/internal/passloop"
	"github.com/regcred/regcred/registry"
)

// DefaultPoll is how often Keeper looks again without a Catalog
// change or a token falling due (a deleted or edited file is repaired then).
const DefaultPoll = 10 * time.Minute

// Keeper keeps a docker config.json (a DOCKER_CONFIG directory's) holding the
// current credentials of every saved registry, for tools that cannot run a credential
// helper (docker-compose 1.x in a CI image, skopeo --authfile, buildkit in a sandbox).
//
// Rules:
//   - The file is written atomically with mode 0600 (Config.WriteFile), and
//     only when its content would change: a pass that finds it current does not touch it.
//   - It is rewritten after every Catalog change (a rotation, an added or deleted
//     registry) and when a token's provider is due to fetch anew (registry.RefreshAt:
//     the refreshing cache's one rule), on the clock of WithClock.
//   - Entries it did not write, credsStore, credHelpers and other keys are kept. Entries
//     it wrote for registries since deleted are removed (those of this process: after a
//     restart, only the registries still saved are known).
//   - A registry whose credentials fail keeps its entry as it is. A file that cannot be
//     parsed is left alone and the pass fails: it is never overwritten.
//   - One entry per host (the docker config's key): when two registries share a host, the
//     first in the Keychain's order wins. Public registries and wildcard servers get none.
//
// It needs no Kubernetes: run it on each docker host (Run), or pass
// controller.WithDockerConfig to run it beside the controller on every replica (the file
// is local to each).
type Keeper struct {
	cat  *catalog.Catalog
	path string
	clk  clock.Clock
	log  *slog.Logger
	poll time.Duration

	mu   sync.Mutex
	ours map[string]bool      // keys written by this process
	due  map[string]time.Time // registry ID -> when its provider fetches anew (registry.RefreshAt)
}

// Option configures New.
type Option func(*Keeper)

// WithClock sets the clock that schedules refreshes (default clock.Real{}).
func WithClock(c clock.Clock) Option {
	return func(d *Keeper) {
		if c != nil {
			d.clk = c
		}
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(d *Keeper) {
		if l != nil {
			d.log = l
		}
	}
}

// WithPoll sets how often Run looks again without an event (default
// DefaultPoll).
func WithPoll(p time.Duration) Option {
	return func(d *Keeper) {
		if p > 0 {
			d.poll = p
		}
	}
}

// New returns a Keeper writing path (DefaultPath is docker's own). It does no I/O.
func New(cat *catalog.Catalog, path string, opts ...Option) *Keeper {
	d := &Keeper{cat: cat, path: path, clk: clock.Real{}, log: slog.New(slog.DiscardHandler),
		poll: DefaultPoll, ours: map[string]bool{}, due: map[string]time.Time{}}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Reconcile runs one pass and reports whether it wrote the file.
func (d *Keeper) Reconcile(ctx context.Context) (wrote bool, err error) {
	if d.cat == nil || d.path == "" {
		return false, fmt.Errorf("docker config: %w: a Catalog and a path are required", registry.ErrInvalid)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	old, err := os.ReadFile(d.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("docker config: read %s: %w", d.path, err)
	}
	cfg := dockerconfig.New()
	if len(old) > 0 {
		if cfg, err = dockerconfig.Parse(old); err != nil {
			return false, fmt.Errorf("docker config: %s is not a docker config; left as it is (fix or remove it): %w", d.path, err)
		}
	}
	kc, err := d.cat.Keychain(ctx)
	if err != nil {
		return false, err
	}
	ours := map[string]bool{}
	due := map[string]time.Time{}
	var errs []error
	for _, r := range kc.Registries() {
		srv, err := r.ServerInfo()
		if err != nil || srv.Wildcard {
			continue
		}
		p, ok := kc.Provider(r.ID)
		if !ok {
			continue
		}
		key := srv.Key()
		cr, err := p.Credentials(ctx)
		if err != nil {
			if !ours[key] && d.ours[key] {
				ours[key] = true // keep the last written entry
			}
			errs = append(errs, fmt.Errorf("registry %s: %w", r.Name, err))
			continue
		}
		if cr.Server != "" {
			key = dockerconfig.Key(cr.Server)
		}
		if cr.Anonymous() || ours[key] {
			continue
		}
		ours[key] = true
		cfg.Set(key, cr)
		if t := registry.RefreshAt(p, cr); !t.IsZero() {
			due[r.ID] = t
		}
	}
	for k := range d.ours {
		if !ours[k] {
			cfg.Delete(k)
		}
	}
	d.ours, d.due = ours, due
	data, err := cfg.Marshal()
	if err != nil {
		return false, fmt.Errorf("docker config: %w", err)
	}
	if !bytes.Equal(data, old) {
		if err := cfg.WriteFile(d.path); err != nil {
			return false, err
		}
		wrote = true
	}
	if len(errs) > 0 {
		return wrote, fmt.Errorf("docker config: kept the previous entries of: %w", errors.Join(errs...))
	}
	return wrote, nil
}

// nextDue is when the earliest written token falls due; zero when none expires.
func (d *Keeper) nextDue() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	var next time.Time
	for _, t := range d.due {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next
}

// Run reconciles at once, on every Catalog change, when a written token falls due and
// every poll period, until ctx is done (passloop). A failed pass is logged and retried at
// the next.
func (d *Keeper) Run(ctx context.Context) error {
	passloop.Run(ctx, d.clk, d.cat.Subscribe(ctx), func(ctx context.Context) time.Duration {
		if _, err := d.Reconcile(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("docker config: pass failed", "path", d.path, "error", err)
		}
		return passloop.Until(d.clk, d.nextDue(), d.poll, time.Second)
	})
	return nil
}
