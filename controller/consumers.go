package controller

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/regcred/regcred/registry"
)

// consumersDebounce gathers a burst of Secret events (an initial sync, a rotation) into
// one report per registry.
const consumersDebounce = 250 * time.Millisecond

// watchConsumers makes the leader record, per registry, the namespaces holding its pull
// Secret as the registry's consumers (Catalog.SetConsumers, kind
// registry.ConsumerNamespace), so its health lists the namespaces served. It reports
// what changed, after each burst of the owned Secrets' events.
func (c *Controller) watchConsumers() error {
	kick := make(chan struct{}, 1)
	poke := func(any) {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	if _, err := c.secretInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: poke, DeleteFunc: poke,
		UpdateFunc: func(_, obj any) { poke(obj) },
	}); err != nil {
		return err
	}
	c.o.leaderTasks = append(c.o.leaderTasks, func(ctx context.Context) error {
		last := map[string][]string{}
		poke(nil) // report once on taking the lead
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-kick:
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(consumersDebounce):
			}
			select { // the events of the wait are in this report
			case <-kick:
			default:
			}
			if !c.resolved.Load() {
				poke(nil)
				continue
			}
			c.reportConsumers(ctx, last)
		}
	})
	return nil
}

// reportConsumers sets the consumers of every registry whose namespaces differ from last
// (updated in place); a failed report is tried again at the next event.
func (c *Controller) reportConsumers(ctx context.Context, last map[string][]string) {
	owned, err := c.secrets.List(labels.Everything())
	if err != nil {
		return
	}
	byName := map[string][]string{}
	for _, s := range owned {
		if s.DeletionTimestamp == nil {
			byName[s.Name] = append(byName[s.Name], s.Namespace)
		}
	}
	now := map[string][]string{}
	for _, d := range c.st.snapshot() {
		nss := byName[d.name]
		sort.Strings(nss)
		now[d.reg.ID] = nss
	}
	for id, nss := range now {
		if prev, ok := last[id]; ok && slices.Equal(prev, nss) {
			continue
		}
		err := c.cat.SetConsumers(ctx, id, registry.ConsumerNamespace, nss)
		if err != nil && !errors.Is(err, registry.ErrNotFound) {
			c.o.logger.Warn("controller: record namespace consumers", "registry", id, "error", err)
			continue
		}
		last[id] = nss
	}
	for id := range last {
		if _, ok := now[id]; !ok {
			delete(last, id) // deleted registry: its health went with it
		}
	}
}
