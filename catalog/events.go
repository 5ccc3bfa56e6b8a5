package catalog

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/registry"
)

// EventOp says what happened to a registry, as a Catalog's subscribers hear it.
type EventOp string

// The event operations. One change may give several events (a rotation that also makes
// the record the default gives EventRotate and EventDefault).
const (
	EventAdd     EventOp = "add"     // a new record
	EventUpdate  EventOp = "update"  // name, server, TLS, scope... changed
	EventRotate  EventOp = "rotate"  // a secret field changed (or the kind)
	EventDelete  EventOp = "delete"  // the record is gone
	EventDefault EventOp = "default" // the record became, or stopped being, the default
	EventResync  EventOp = "resync"  // the subscriber fell behind: reload everything
)

// Event is one change to a registry, from this Catalog or any other on the same Store
// (when it implements Watcher). Registry is the redacted record after the change (for
// EventDelete, the last one seen; zero for EventResync); it never holds a secret.
//
// An event carries its change's audit entry: Actor, Seq and Fields (see Changes). For a
// change made through another Catalog, process or replica they come from the store's
// change log, so they are zero over a store that keeps none (registry.Journal) and for
// changes reported together or after a resync.
type Event struct {
	Op       EventOp
	ID       string
	Version  int64
	Registry registry.Registry
	Actor    string   // who made the change ("" for the trusted operator, or not known)
	Seq      uint64   // the change log's sequence number of the change (0: not known)
	Fields   []string // the names of the fields that changed (registry.ChangedFields)
}

// Subscribe reports every change to the registries until ctx is done or the Catalog is
// closed; then the channel is closed. Changes made through this Catalog are reported; so
// are those of other Catalogs, processes and replicas when the Store implements Watcher
// (otherwise the Catalog cannot know of them). Events come in commit order; changes that
// follow each other faster than the Catalog reads the store may be reported together,
// with the newest record (this Catalog's own changes are reported one by one, as they
// are written). A subscriber that falls far behind gets EventResync in place of
// what it missed, so a slow subscriber never blocks the Catalog.
//
// With an Authorizer, a subscriber hears only of the registries the principal of ctx may
// list (EventResync always); without a principal, of none.
func (c *Catalog) Subscribe(ctx context.Context) <-chan Event {
	c.startWatch()
	ch := c.events.Subscribe(ctx)
	if c.authz == nil {
		return ch
	}
	out := make(chan Event)
	go func() {
		defer close(out)
		for e := range ch { // ends when ctx is done or the Catalog is closed
			if e.Op != EventResync && c.authorize(ctx, ActionList, e.Registry) != nil {
				continue
			}
			select {
			case out <- e:
			case <-ctx.Done():
			}
		}
	}()
	return out
}

// Close stops following the store's change feed and ends every subscription. The Catalog
// stays usable for everything else; with a Watcher store it no longer sees other
// Catalogs' changes (call Invalidate). Close is idempotent and returns nil.
func (c *Catalog) Close() error {
	c.watchOnce.Do(func() { close(c.watchDone) }) // never started: nothing to wait for
	c.watchStop()
	<-c.watchDone
	c.events.Close()
	return nil
}

// startWatch opens the change feed of a Watcher store once: the first subscription is
// made here, before the caller fills any cache, so no change after it is missed.
func (c *Catalog) startWatch() {
	w, ok := c.store.(registry.Watcher)
	if !ok {
		return
	}
	c.watchOnce.Do(func() {
		ctx := c.watchCtx
		ch, err := w.Watch(ctx)
		c.evMu.Lock()
		c.watching = true
		c.loadSnapshot(ctx)
		c.startLog(ctx)
		c.evMu.Unlock()
		go c.watchLoop(ctx, w, ch, err)
	})
}

const (
	watchRetryMin = time.Second
	watchRetryMax = time.Minute
)

func (c *Catalog) watchLoop(ctx context.Context, w registry.Watcher, ch <-chan registry.Change, err error) {
	defer close(c.watchDone)
	wait := watchRetryMin
	for {
		if err == nil && ch == nil {
			err = errors.New("the store's Watch returned no channel")
		}
		if err == nil {
			more, n := c.follow(ctx, ch)
			if !more {
				return
			}
			if n > 0 {
				wait = watchRetryMin // it worked for a while: retry soon
			}
			err = errors.New("the change feed ended")
		}
		c.log.Warn("registry catalog: change feed unavailable; retrying", "error", err, "retry", wait)
		c.gen.Add(1) // changes may be missed meanwhile: check versions on the next use
		if clock.Sleep(ctx, c.clk, wait) != nil {
			return
		}
		wait = min(wait*2, watchRetryMax)
		if ch, err = w.Watch(ctx); err == nil {
			c.apply(ctx, registry.Change{Op: registry.ChangeResync})
		}
	}
}

// follow applies the changes of ch until it ends (more: true) or ctx is done, and says
// how many it applied.
func (c *Catalog) follow(ctx context.Context, ch <-chan registry.Change) (more bool, n int) {
	for {
		select {
		case change, ok := <-ch:
			if !ok {
				return ctx.Err() == nil, n
			}
			c.apply(ctx, change)
			n++
		case <-ctx.Done():
			return false, n
		}
	}
}

// apply handles one change of the feed: drop what was cached for the record, and tell
// the subscribers.
func (c *Catalog) apply(ctx context.Context, ch registry.Change) {
	c.evMu.Lock()
	defer c.evMu.Unlock()
	if k := (changeKey{ch.Op, ch.ID, ch.Version}); ch.Op != registry.ChangeResync {
		if _, mine := c.own[k]; mine {
			delete(c.own, k) // reported when it was written
			return
		}
	} else {
		clear(c.own) // their echoes may be lost
	}
	if !c.snapReady {
		c.loadSnapshot(ctx)
	}
	switch ch.Op {
	case registry.ChangePut:
		r, err := c.store.Get(ctx, ch.ID)
		switch {
		case errors.Is(err, registry.ErrNotFound):
			c.drop(ch.ID, 0)
			c.gen.Add(1)
			c.observe(ch.ID, nil, c.logged(ctx, registry.ChangeDelete, ch.ID, 0))
		case err != nil:
			c.log.Warn("registry catalog: read a changed record", "id", ch.ID, "error", err)
			c.drop(ch.ID, 0)
			c.gen.Add(1)
		default:
			c.drop(ch.ID, r.Version)
			c.gen.Add(1)
			c.observe(ch.ID, &r, c.logged(ctx, registry.ChangePut, ch.ID, r.Version))
		}
	case registry.ChangeDelete:
		c.drop(ch.ID, 0)
		c.gen.Add(1)
		c.observe(ch.ID, nil, c.logged(ctx, registry.ChangeDelete, ch.ID, ch.Version))
	default: // ChangeResync, or an operation this Catalog does not know
		c.gen.Add(1)
		all, err := c.store.List(ctx)
		if err != nil {
			c.log.Warn("registry catalog: reload after a resync", "error", err)
			c.events.Publish(Event{Op: EventResync})
			return
		}
		c.forgetOthers(all)
		seen := make(map[string]bool, len(all))
		for i := range all {
			seen[all[i].ID] = true
			c.drop(all[i].ID, all[i].Version)
			c.observe(all[i].ID, &all[i], registry.Audit{})
		}
		var gone []string
		for id := range c.snap {
			if !seen[id] {
				gone = append(gone, id)
			}
		}
		sort.Strings(gone)
		for _, id := range gone {
			c.observe(id, nil, registry.Audit{})
		}
	}
}

// loadSnapshot records what the subscribers know at the start. The caller holds c.evMu.
func (c *Catalog) loadSnapshot(ctx context.Context) {
	all, err := c.store.List(ctx)
	if err != nil {
		c.log.Warn("registry catalog: list for the change feed", "error", err)
		return
	}
	for _, r := range all {
		c.snap[r.ID] = c.state(r)
	}
	c.snapReady = true
}

// observe tells the subscribers how id changed from what they last heard (r nil: gone),
// with the change's audit entry a when it is known. The caller holds c.evMu.
func (c *Catalog) observe(id string, r *registry.Registry, a registry.Audit) {
	prev, had := c.snap[id]
	var p, n *recState
	if had {
		p = &prev
	}
	if r != nil {
		s := c.state(*r)
		n = &s
		c.snap[id] = s
	} else {
		delete(c.snap, id)
	}
	c.events.Publish(withAudit(classify(p, n), a)...)
}

// withAudit sets the audit entry's actor, sequence and fields on the events of its change.
func withAudit(evs []Event, a registry.Audit) []Event {
	for i := range evs {
		evs[i].Actor, evs[i].Seq, evs[i].Fields = a.Actor, a.Seq, a.Fields
	}
	return evs
}

// recState is what the Catalog remembers of a record to classify its next change: the
// redacted record, and keyed fingerprints (HMAC with a per-Catalog random key) of its
// secrets and of the rest.
type recState struct {
	red    registry.Registry
	secret [32]byte
	rest   [32]byte
}

func (c *Catalog) state(r registry.Registry) recState {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(r.Kind))
	for _, n := range registry.SecretNames(r) {
		m.Write([]byte{0})
		m.Write([]byte(n))
		m.Write([]byte{0})
		m.Write([]byte(r.Fields[n]))
	}
	var s recState
	copy(s.secret[:], m.Sum(nil))
	red := r.Redacted()
	rest := red.Clone()
	rest.Version, rest.Updated, rest.Default = 0, time.Time{}, false
	b, _ := json.Marshal(rest)
	s.rest = sha256.Sum256(b)
	s.red = red
	return s
}

// classify turns the change from prev to next (nil: absent) into events.
func classify(prev, next *recState) []Event {
	switch {
	case prev == nil && next == nil:
		return nil
	case prev == nil:
		return []Event{{Op: EventAdd, ID: next.red.ID, Version: next.red.Version, Registry: next.red}}
	case next == nil:
		return []Event{{Op: EventDelete, ID: prev.red.ID, Version: prev.red.Version, Registry: prev.red}}
	}
	ev := func(op EventOp) Event {
		return Event{Op: op, ID: next.red.ID, Version: next.red.Version, Registry: next.red}
	}
	var out []Event
	if prev.secret != next.secret {
		out = append(out, ev(EventRotate))
	}
	if prev.red.Default != next.red.Default {
		out = append(out, ev(EventDefault))
	}
	if prev.rest != next.rest || len(out) == 0 && prev.red.Version != next.red.Version {
		out = append(out, ev(EventUpdate))
	}
	return out
}
