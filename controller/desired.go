package controller

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

// desiredSecret is one registry's pull Secret content, resolved once for every namespace.
type desiredSecret struct {
	reg      registry.Registry // redacted: the version these credentials are of
	name     string
	p        registry.Provider // the Catalog's provider of that version (nil until resolved)
	template *corev1.Secret    // nil when public (no Secret), pending, or when resolution failed
	err      error             // credentials failed: existing Secrets are kept as they are
	pending  bool              // not resolved yet: existing Secrets are kept as they are
	expires  time.Time
	refresh  time.Time // when the provider's next call fetches anew (registry.RefreshAt)
}

// keeps reports whether the registry's existing Secrets are kept as they are: it is not
// resolved yet, or its credentials failed with nothing resolved to write.
func (d *desiredSecret) keeps() bool { return d.pending || (d.err != nil && d.template == nil) }

// same reports whether d and e would write the same Secrets to the same places.
func (d *desiredSecret) same(e *desiredSecret) bool {
	if d == nil || e == nil {
		return d == e
	}
	if d.name != e.name || d.pending != e.pending || (d.err == nil) != (e.err == nil) || (d.template == nil) != (e.template == nil) ||
		!scopeEqual(d.reg.Scope, e.reg.Scope) || d.reg.Name != e.reg.Name {
		return false
	}
	if d.template == nil {
		return true
	}
	return kube.SecretCurrent(e.template, d.template)
}

func scopeEqual(a, b registry.Scope) bool {
	return slices.Equal(a.Namespaces, b.Namespaces) && slices.Equal(a.Teams, b.Teams) && slices.Equal(a.Projects, b.Projects)
}

// state is the desired content of every registry. Each registry is resolved on its own
// (a slow token endpoint delays only its own Secrets) and its result is installed only
// while it is of the newest version heard of.
type state struct {
	mu     sync.RWMutex
	byID   map[string]*desiredSecret
	want   map[string]int64              // registry ID -> the newest version heard of
	flight map[string]context.CancelFunc // registry ID -> its resolution in flight
	gen    map[string]uint64             // registry ID -> generation of its resolution in flight
	seq    uint64
}

func (s *state) snapshot() []*desiredSecret {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*desiredSecret, 0, len(s.byID))
	for _, d := range s.byID {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func (s *state) isOurs(name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, d := range s.byID {
		if d.name == name {
			return true
		}
	}
	return false
}

// relist lists the Catalog (at the start of leading, after a resync of the Catalog's
// events and every resync period) and tracks every record: the changed or new ones are
// resolved, the gone ones forgotten. all resolves every record again.
func (c *Controller) relist(ctx context.Context, all bool) error {
	start := time.Now()
	regs, err := c.cat.List(ctx)
	c.metrics.resolveDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		c.metrics.failures.WithLabelValues("catalog").Inc()
		c.o.logger.Warn("controller: list registries", "error", err)
		return err
	}
	seen := make(map[string]bool, len(regs))
	for _, r := range regs {
		seen[r.ID] = true
		c.track(ctx, r, all)
	}
	c.st.mu.RLock()
	var gone []string
	for id := range c.st.want {
		if !seen[id] {
			gone = append(gone, id)
		}
	}
	c.st.mu.RUnlock()
	for _, id := range gone {
		c.forget(id)
	}
	return nil
}

// track hears of record r (redacted: a listing's or an event's): a new version is resolved
// on its own goroutine, and any resolution of an older version in flight is abandoned.
// force resolves it again even when its version is known.
func (c *Controller) track(ctx context.Context, r registry.Registry, force bool) {
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	if c.st.byID == nil {
		c.st.byID, c.st.want = map[string]*desiredSecret{}, map[string]int64{}
		c.st.flight, c.st.gen = map[string]context.CancelFunc{}, map[string]uint64{}
	}
	known, ok := c.st.want[r.ID]
	if ok && (r.Version < known || r.Version == known && !force) {
		return
	}
	c.st.want[r.ID] = r.Version
	if _, ok := c.st.byID[r.ID]; !ok {
		c.st.byID[r.ID] = &desiredSecret{reg: r, name: c.o.secretName(r), pending: true}
	}
	c.startLocked(ctx, r)
}

// startLocked starts resolving r, replacing a resolution of r in flight. The caller holds
// c.st.mu.
func (c *Controller) startLocked(ctx context.Context, r registry.Registry) {
	if cancel := c.st.flight[r.ID]; cancel != nil {
		cancel()
	}
	c.st.seq++
	gen := c.st.seq
	rctx, cancel := context.WithCancel(ctx)
	c.st.flight[r.ID], c.st.gen[r.ID] = cancel, gen
	c.resolving.Add(1) // Add and Wait are both on lead's goroutine
	go func() {
		defer c.resolving.Done()
		c.install(c.resolveOne(rctx, r), gen)
	}()
}

// forget drops a deleted registry: its Secrets are pruned by the namespaces' syncs.
func (c *Controller) forget(id string) {
	c.st.mu.Lock()
	if cancel := c.st.flight[id]; cancel != nil {
		cancel()
	}
	_, had := c.st.byID[id]
	delete(c.st.byID, id)
	delete(c.st.want, id)
	delete(c.st.flight, id)
	delete(c.st.gen, id)
	c.st.mu.Unlock()
	c.metrics.tokenExpiry.DeleteLabelValues(id)
	c.metrics.credentialFailures.DeleteLabelValues(id)
	c.noteResolved()
	if had {
		c.enqueueAll()
	}
}

// noteResolved marks the credentials resolved (readiness, Pod events) once no registry of
// those heard of is pending.
func (c *Controller) noteResolved() {
	c.st.mu.RLock()
	defer c.st.mu.RUnlock()
	for _, d := range c.st.byID {
		if d.pending {
			return
		}
	}
	c.resolved.Store(true)
}

// resolveOne resolves r's credentials through the Catalog's one provider of the record
// (no full-record read: the event's or the listing's redacted record and the provider are
// all it takes) into its Secret template.
func (c *Controller) resolveOne(ctx context.Context, r registry.Registry) *desiredSecret {
	d := &desiredSecret{reg: r, name: c.o.secretName(r)}
	d.p, d.err = c.cat.Provider(ctx, r.ID)
	if d.err != nil {
		return d
	}
	fixed := func(registry.Registry) (registry.Provider, error) { return d.p, nil }
	opts := append([]kube.Option{
		kube.WithProviderFactory(fixed),
		kube.WithSecretName(c.o.secretName),
		kube.WithManagedBy(c.o.managedBy),
	}, c.o.kubeOpts...)
	d.template, d.err = kube.Build(ctx, "", r, opts...)
	if errors.Is(d.err, registry.ErrNotFound) && d.template == nil {
		d.err = nil // public: no Secret, old ones are pruned
	}
	if d.template != nil {
		d.expires = kube.ExpiresAt(d.template)
		d.refresh = registry.RefreshAt(d.p, registry.Credentials{ExpiresAt: d.expires})
	}
	return d
}

// install makes d the registry's desired content, unless it is stale: a newer version was
// heard of, the record was deleted, or the Catalog retired the provider it was resolved
// with (a change that this controller has not heard of yet). A stale result is dropped:
// the change brings its own resolution. Namespaces are queued when what they would get
// changed.
func (c *Controller) install(d *desiredSecret, gen uint64) {
	id := d.reg.ID
	c.st.mu.Lock()
	if c.st.gen[id] != gen || c.st.want[id] != d.reg.Version || (d.p != nil && !c.cat.Current(id, d.p)) {
		c.st.mu.Unlock()
		c.metrics.failures.WithLabelValues("stale_resolution").Inc()
		return
	}
	delete(c.st.flight, id)
	delete(c.st.gen, id)
	prev := c.st.byID[id]
	if d.err == nil && d.template != nil {
		for oid, o := range c.st.byID {
			if oid != id && o.name == d.name {
				d.template, d.err = nil, &registry.Error{Op: "controller", Registry: d.reg.Name, Err: errors.Join(registry.ErrConflict,
					errors.New("registry "+o.reg.Name+" maps to the same secret name: give one another ID or change WithSecretName"))}
				break
			}
		}
	}
	if d.err != nil {
		c.metrics.credentialFailures.WithLabelValues(id).Inc()
		c.o.logger.Warn("controller: credentials failed; keeping existing secrets", "registry", d.reg.Name, "error", d.err)
		if prev != nil && prev.err == nil && prev.template != nil && prev.reg.Version == d.reg.Version {
			kept := *prev
			kept.err = d.err
			d = &kept
		}
	}
	if !d.expires.IsZero() {
		c.metrics.tokenExpiry.WithLabelValues(id).Set(float64(d.expires.Unix()))
	}
	c.st.byID[id] = d
	changed := !d.same(prev)
	c.st.mu.Unlock()
	c.noteResolved()
	if changed {
		c.enqueueAll()
	}
	c.wake()
}

// nextRefresh is when the earliest credentials are due to be fetched again, as their
// providers say (registry.RefreshAt). Zero when none expires.
func (c *Controller) nextRefresh() time.Time {
	var next time.Time
	for _, d := range c.st.snapshot() {
		next = earliest(next, d.refresh)
	}
	return next
}

// refreshDue resolves again every registry whose credentials are due at now: the
// provider's Credentials call then fetches new ones (nothing is invalidated).
func (c *Controller) refreshDue(ctx context.Context, now time.Time) {
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	for id, d := range c.st.byID {
		if d.refresh.IsZero() || now.Before(d.refresh) || c.st.flight[id] != nil {
			continue
		}
		c.startLocked(ctx, d.reg)
	}
}
