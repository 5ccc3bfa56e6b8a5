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
	reg      registry.Registry // redacted
	name     string
	template *corev1.Secret // nil when public (no Secret) or when resolution failed
	err      error          // credentials failed: existing Secrets are kept as they are
	expires  time.Time
	seen     time.Time // when these credentials were first resolved
}

// same reports whether d and e would write the same Secrets to the same places.
func (d *desiredSecret) same(e *desiredSecret) bool {
	if d == nil || e == nil {
		return d == e
	}
	if d.name != e.name || (d.err == nil) != (e.err == nil) || (d.template == nil) != (e.template == nil) ||
		!scopeEqual(d.reg.Scope, e.reg.Scope) || d.reg.Name != e.reg.Name {
		return false
	}
	if d.template == nil {
		return true
	}
	return secretCurrent(e.template, d.template)
}

func scopeEqual(a, b registry.Scope) bool {
	return slices.Equal(a.Namespaces, b.Namespaces) && slices.Equal(a.Teams, b.Teams) && slices.Equal(a.Projects, b.Projects)
}

// state is the desired content of every registry, replaced as a whole on each resolution.
type state struct {
	mu    sync.RWMutex
	byID  map[string]*desiredSecret
	names map[string]bool // every Secret name a registry maps to
	ready bool
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
	return s.names[name]
}

// resolve lists the Catalog and resolves every registry's credentials (through the
// Catalog's one provider of each). It returns whether anything a namespace would see
// changed. A registry whose credentials fail keeps its last good content when it had one.
func (c *Controller) resolve(ctx context.Context) (changed bool, err error) {
	regs, err := c.cat.List(ctx)
	if err != nil {
		return false, err
	}
	now := c.o.clk.Now()
	c.st.mu.RLock()
	prev := c.st.byID
	c.st.mu.RUnlock()
	next := make(map[string]*desiredSecret, len(regs))
	names := make(map[string]bool, len(regs))
	owner := map[string]string{}
	for _, r := range regs {
		d := &desiredSecret{reg: r, name: c.o.secretName(r)}
		if prevOwner, dup := owner[d.name]; dup {
			d.err = &registry.Error{Op: "controller", Registry: r.Name, Err: errors.Join(registry.ErrConflict, errors.New("registry "+prevOwner+" maps to the same secret name: give one another ID or change WithSecretName"))}
			next[r.ID] = d
			continue
		}
		owner[d.name] = r.Name
		names[d.name] = true
		d.template, d.err = c.build(ctx, r)
		if errors.Is(d.err, registry.ErrNotFound) && d.template == nil {
			d.err = nil // public: no Secret, old ones are pruned
		}
		if d.err != nil {
			c.metrics.credentialFailures.WithLabelValues(r.ID).Inc()
			c.o.logger.Warn("controller: credentials failed; keeping existing secrets", "registry", r.Name, "error", d.err)
			if p := prev[r.ID]; p != nil && p.err == nil && p.template != nil && p.reg.Version == r.Version {
				kept := *p
				kept.err = d.err
				d = &kept
			}
		}
		if d.template != nil {
			d.expires = kube.ExpiresAt(d.template)
			d.seen = now
			if p := prev[r.ID]; p != nil && p.template != nil && p.expires.Equal(d.expires) {
				d.seen = p.seen
			}
			if !d.expires.IsZero() {
				c.metrics.tokenExpiry.WithLabelValues(r.ID).Set(float64(d.expires.Unix()))
			}
		}
		next[r.ID] = d
	}
	for id := range prev {
		if _, ok := next[id]; !ok {
			changed = true
			c.metrics.tokenExpiry.DeleteLabelValues(id)
			c.metrics.credentialFailures.DeleteLabelValues(id)
		}
	}
	for id, d := range next {
		if !d.same(prev[id]) {
			changed = true
		}
	}
	c.st.mu.Lock()
	c.st.byID, c.st.names, c.st.ready = next, names, true
	c.st.mu.Unlock()
	return changed, nil
}

// build returns r's pull Secret template (namespace empty) through the Catalog's provider.
func (c *Controller) build(ctx context.Context, r registry.Registry) (*corev1.Secret, error) {
	full, err := c.cat.Reveal(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	opts := append([]kube.Option{
		kube.WithProviderFactory(c.cat.ProviderFactory()),
		kube.WithSecretName(c.o.secretName),
		kube.WithManagedBy(c.o.managedBy),
	}, c.o.kubeOpts...)
	return kube.Build(ctx, "", full, opts...)
}

// nextRefresh is when the earliest expiring credentials are due: three quarters of their
// lifetime after they were first seen. Zero when none expires.
func (c *Controller) nextRefresh() time.Time {
	var next time.Time
	for _, d := range c.st.snapshot() {
		next = earliest(next, refreshAt(d.seen, d.expires))
	}
	return next
}

// invalidateDue drops the cached token of every registry due for refresh at now, so the
// next resolution fetches a fresh one.
func (c *Controller) invalidateDue(ctx context.Context, now time.Time) {
	for _, d := range c.st.snapshot() {
		if t := refreshAt(d.seen, d.expires); t.IsZero() || now.Before(t) {
			continue
		}
		p, err := c.cat.Provider(ctx, d.reg.ID)
		if err != nil {
			continue
		}
		if inv, ok := p.(registry.Invalidator); ok {
			inv.Invalidate()
		}
	}
}
