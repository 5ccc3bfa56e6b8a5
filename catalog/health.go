package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
)

// maxHealthText bounds an error text kept in Health.
const maxHealthText = 512

// healthWriteTimeout bounds one health write made on behalf of a caller whose ctx ended.
const healthWriteTimeout = 10 * time.Second

// Health returns the health of the registry id: the last connection test, the token
// state of a token kind, the consumers that reported using it, and the static
// credential's expiry from the record.
func (c *Catalog) Health(ctx context.Context, id string) (registry.Health, error) {
	r, err := c.store.Get(ctx, id)
	if err != nil {
		return registry.Health{}, &registry.Error{Op: "health", Registry: id, Err: err}
	}
	if err := c.authorize(ctx, ActionView, r); err != nil {
		return registry.Health{}, err
	}
	var h registry.Health
	if hs, ok := c.store.(registry.HealthStore); ok {
		if h, err = hs.Health(ctx, id); err != nil {
			return registry.Health{}, &registry.Error{Op: "health", Registry: r.Name, Err: err}
		}
	} else {
		c.hmu.Lock()
		h = c.healthMem[id].Clone()
		c.hmu.Unlock()
	}
	h.CredentialsExpire = r.CredentialsExpire
	return h, nil
}

// ListHealth returns the health of every registry, by ID (a registry with nothing
// recorded has the zero Health, with its credential expiry).
func (c *Catalog) ListHealth(ctx context.Context) (map[string]registry.Health, error) {
	all, err := c.store.List(ctx)
	if err != nil {
		return nil, &registry.Error{Op: "health", Err: err}
	}
	all = filter(all, c.allowed(ctx, ActionView))
	var stored map[string]registry.Health
	if hs, ok := c.store.(registry.HealthStore); ok {
		if stored, err = hs.ListHealth(ctx); err != nil {
			return nil, &registry.Error{Op: "health", Err: err}
		}
	} else {
		c.hmu.Lock()
		stored = maps.Clone(c.healthMem)
		c.hmu.Unlock()
	}
	out := make(map[string]registry.Health, len(all))
	for _, r := range all {
		h := stored[r.ID].Clone()
		h.CredentialsExpire = r.CredentialsExpire
		out[r.ID] = h
	}
	return out, nil
}

// SetConsumers records that the consumers of kind (ConsumerNamespace,
// ConsumerSwarmService, ConsumerComposeProject, or a platform's own kind) using the
// registry id are exactly names, replacing what that kind reported before. Adapters call
// it after each pass; the names show in Health.
func (c *Catalog) SetConsumers(ctx context.Context, id, kind string, names []string) error {
	if kind == "" {
		return &registry.Error{Op: "set consumers", Registry: id, Err: &registry.FieldError{Field: "kind", Reason: "is empty"}}
	}
	if c.authz != nil {
		r, err := c.store.Get(ctx, id)
		if err != nil {
			return &registry.Error{Op: "set consumers", Registry: id, Err: err}
		}
		if err := c.authorize(ctx, ActionUse, r); err != nil {
			return err
		}
	}
	now := c.stamp()
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	return c.updateHealth(ctx, id, func(h *registry.Health) {
		kept := h.Consumers[:0:0]
		for _, u := range h.Consumers {
			if u.Kind != kind {
				kept = append(kept, u)
			}
		}
		for _, n := range names {
			kept = append(kept, registry.Consumer{Kind: kind, Name: untrusted.Limit(n, 253), Seen: now})
		}
		slices.SortFunc(kept, func(a, b registry.Consumer) int {
			if a.Kind != b.Kind {
				return strings.Compare(a.Kind, b.Kind)
			}
			return strings.Compare(a.Name, b.Name)
		})
		h.Consumers = kept
	})
}

// updateHealth applies update to the health of id, in the store or in memory.
func (c *Catalog) updateHealth(ctx context.Context, id string, update func(*registry.Health)) error {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), healthWriteTimeout)
		defer cancel()
	}
	if hs, ok := c.store.(registry.HealthStore); ok {
		if err := hs.UpdateHealth(ctx, id, update); err != nil {
			return &registry.Error{Op: "health", Registry: id, Err: err}
		}
		return nil
	}
	if _, err := c.store.Get(ctx, id); err != nil {
		return &registry.Error{Op: "health", Registry: id, Err: err}
	}
	c.hmu.Lock()
	defer c.hmu.Unlock()
	h := c.healthMem[id].Clone()
	update(&h)
	h.CredentialsExpire = time.Time{}
	if h.IsZero() {
		delete(c.healthMem, id)
	} else {
		c.healthMem[id] = h
	}
	return nil
}

// recordHealth is updateHealth for what the Catalog notices as it works: a failure is
// logged, never returned (a deleted record, a store that is down).
func (c *Catalog) recordHealth(ctx context.Context, id string, update func(*registry.Health)) {
	if err := c.updateHealth(ctx, id, update); err != nil && !errors.Is(err, registry.ErrNotFound) {
		c.log.Warn("registry catalog: record health", "id", id, "error", err)
	}
}

// testHealth summarizes a Report.
func testHealth(rep *conntest.Report, version int64, at time.Time) *registry.TestHealth {
	th := &registry.TestHealth{Verdict: registry.VerdictOK, At: at, Version: version}
	if rep.Failed() == nil && !rep.Tested() {
		// Nothing was reached with the credentials: not a pass (conntest.OutcomeNotTested).
		th.Verdict, th.Step = registry.VerdictSkipped, registry.StepAuth
		if s := rep.Untested(); s != nil {
			th.Step, th.Cause = s.Name, untrusted.Limit(s.Fix, maxHealthText)
		}
		return th
	}
	for _, s := range rep.Steps {
		switch {
		case s.Verdict == registry.VerdictFailed:
			th.Verdict, th.Step, th.Cause = registry.VerdictFailed, s.Name, untrusted.Limit(s.Cause, maxHealthText)
			return th
		case s.Verdict == registry.VerdictWarning && th.Step == "":
			th.Verdict, th.Step, th.Cause = registry.VerdictWarning, s.Name, untrusted.Limit(s.Cause, maxHealthText)
		}
	}
	return th
}

// observedProvider is the Catalog's one provider of a record version: it passes every
// call to the provider the factory made and records the token's state in Health when it
// changes (a new expiry, a failure, a recovery).
type observedProvider struct {
	p    registry.Provider
	c    *Catalog
	id   string
	name string

	mu      sync.Mutex
	exp     time.Time // of the last value seen
	errText string    // of the last failure seen; "" after a success
	seen    bool

	use fence // writes in flight with this version's credentials (controller_api.go)
}

var (
	_ registry.Provider    = (*observedProvider)(nil)
	_ registry.Invalidator = (*observedProvider)(nil)
	_ registry.Expirer     = (*observedProvider)(nil)
)

// Credentials implements Provider.
func (o *observedProvider) Credentials(ctx context.Context) (registry.Credentials, error) {
	cr, err := o.p.Credentials(ctx)
	o.note(ctx, cr, err)
	return cr, err
}

func (o *observedProvider) note(ctx context.Context, cr registry.Credentials, err error) {
	now := o.c.stamp()
	var update func(*registry.Health)
	o.mu.Lock()
	switch {
	case err != nil:
		text := untrusted.Limit(err.Error(), maxHealthText)
		if !o.seen || text != o.errText {
			update = func(h *registry.Health) {
				if h.Token == nil {
					h.Token = &registry.TokenHealth{}
				}
				h.Token.Error, h.Token.ErrorAt = text, now
			}
		}
		o.errText, o.seen = text, true
	case cr.ExpiresAt.IsZero() && o.errText == "":
		// a static credential: nothing to record
	case !o.seen || !cr.ExpiresAt.Equal(o.exp) || o.errText != "":
		exp, newToken := cr.ExpiresAt, !o.seen || !cr.ExpiresAt.Equal(o.exp)
		update = func(h *registry.Health) {
			if h.Token == nil {
				h.Token = &registry.TokenHealth{}
			}
			h.Token.ExpiresAt = exp
			if newToken {
				h.Token.Refreshed = now
			}
			h.Token.Error, h.Token.ErrorAt = "", time.Time{}
		}
		o.exp, o.errText, o.seen = cr.ExpiresAt, "", true
	}
	o.mu.Unlock()
	if update != nil {
		o.c.recordHealth(ctx, o.id, update)
	}
}

// Invalidate passes to the provider when it caches.
func (o *observedProvider) Invalidate() {
	if inv, ok := o.p.(registry.Invalidator); ok {
		inv.Invalidate()
	}
}

// ExpiresAt passes to the provider when it knows; zero otherwise.
func (o *observedProvider) ExpiresAt() time.Time {
	if e, ok := o.p.(registry.Expirer); ok {
		return e.ExpiresAt()
	}
	return time.Time{}
}

// String names the registry; never a credential.
func (o *observedProvider) String() string { return fmt.Sprintf("registry provider of %q", o.name) }

// Format prints String under every verb.
func (o *observedProvider) Format(f fmt.State, _ rune) { io.WriteString(f, o.String()) }

// LogValue keeps slog from encoding the provider.
func (o *observedProvider) LogValue() slog.Value { return slog.StringValue(o.String()) }

// Expiring returns the registries whose static credential (Registry.CredentialsExpire)
// ends within d of now, or has ended, redacted, soonest first: what a platform reminds its
// users of.
func (c *Catalog) Expiring(ctx context.Context, d time.Duration) ([]registry.Registry, error) {
	all, err := c.store.List(ctx)
	if err != nil {
		return nil, &registry.Error{Op: "expiring", Err: err}
	}
	all = filter(all, c.allowed(ctx, ActionView))
	limit := c.clk.Now().Add(d)
	var out []registry.Registry
	for _, r := range all {
		if !r.CredentialsExpire.IsZero() && !r.CredentialsExpire.After(limit) {
			out = append(out, r.Redacted())
		}
	}
	slices.SortStableFunc(out, func(a, b registry.Registry) int {
		if c := a.CredentialsExpire.Compare(b.CredentialsExpire); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}
