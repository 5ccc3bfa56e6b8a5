package catalog

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/regcred/regcred/registry"
)

// This file holds what the controller and the other adapters need of the Catalog beyond
// its editing API: the refresh time of its providers, and the fence that keeps a changed
// or deleted record's credentials from being written after the change returns.

var _ registry.Refresher = (*observedProvider)(nil)

// RefreshAt passes to the provider when it knows (registry.Refresher); zero otherwise.
func (o *observedProvider) RefreshAt() time.Time {
	if r, ok := o.p.(registry.Refresher); ok {
		return r.RefreshAt()
	}
	return time.Time{}
}

// Use marks the credentials of p, a provider this Catalog handed out for registry id
// (Provider, ProviderFactory), as being written somewhere they outlive the call (a pull
// Secret, a config.json) until release is called. A change of the record (an update, a
// rotation, a delete: through this Catalog or seen on its Store's change feed) retires p:
// it waits for the uses in flight to be released, and from then on Use reports false. So
// an adapter that writes inside a Use never writes a deleted record's credentials, or an
// old version's, after Delete or Update has returned. ok is false (and release nil) when p
// is retired or is not the Catalog's provider of id.
//
// Keep a use short (one write, under a deadline) and call no Catalog method while holding
// it. The fence is within this process: a replica that hears of the change through the
// Store's feed stops at its next Use.
func (c *Catalog) Use(id string, p registry.Provider) (release func(), ok bool) {
	op, isOurs := p.(*observedProvider)
	if !isOurs || op.id != id || !op.use.enter() {
		return nil, false
	}
	return op.use.leave, true
}

// Current reports whether p is still the Catalog's provider of registry id: no change of
// the record has been seen since it was handed out.
func (c *Catalog) Current(id string, p registry.Provider) bool {
	release, ok := c.Use(id, p)
	if ok {
		release()
	}
	return ok
}

// retire ends sp's provider's uses (see Use). The caller holds c.pmu; uses never take it.
func (c *Catalog) retire(sp *sharedProvider) {
	sp.p.use.retire()
}

// fence counts the writes in flight with one provider's credentials; once retired it
// admits none.
type fence struct {
	mu      sync.RWMutex
	retired atomic.Bool
}

func (f *fence) enter() bool {
	f.mu.RLock()
	if f.retired.Load() {
		f.mu.RUnlock()
		return false
	}
	return true
}

func (f *fence) leave() { f.mu.RUnlock() }

// retire waits for the uses in flight and admits no new one (a waiting retire holds new
// uses back, so it cannot be starved).
func (f *fence) retire() {
	f.mu.Lock()
	f.retired.Store(true)
	f.mu.Unlock()
}
