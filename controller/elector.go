package controller

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Elector decides which replica acts when leadership does not come from a Kubernetes
// Lease (WithLeaderElection): for platforms without Kubernetes, or that already run a
// database they trust more, such as the PostgreSQL advisory-lock lease of store/postgres
// (ElectorFunc around Store.Acquire). Acquire blocks until this replica may act, or ctx
// ends; lost is closed when it may act no more; release gives leadership up.
type Elector interface {
	Acquire(ctx context.Context) (lost <-chan struct{}, release func(), err error)
}

// ElectorFunc is an Elector from a function.
type ElectorFunc func(ctx context.Context) (lost <-chan struct{}, release func(), err error)

// Acquire calls f.
func (f ElectorFunc) Acquire(ctx context.Context) (<-chan struct{}, func(), error) { return f(ctx) }

// WithElector makes Run act only while e says this replica leads. Run returns
// ErrLostLeadership when leadership is lost. WithLeaderElection takes precedence.
func WithElector(e Elector) Option { return func(o *options) { o.elector = e } }

// electWith runs lead while e grants leadership.
func (c *Controller) electWith(ctx context.Context, e Elector) error {
	lost, release, err := e.Acquire(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return c.fail(fmt.Errorf("controller: acquire leadership: %w", err))
	}
	if release != nil {
		defer release()
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wasLost atomic.Bool
	go func() {
		select {
		case <-lost:
			wasLost.Store(true)
			cancel()
		case <-lctx.Done():
		}
	}()
	err = c.lead(lctx)
	if wasLost.Load() && ctx.Err() == nil {
		return c.fail(ErrLostLeadership)
	}
	return err
}
