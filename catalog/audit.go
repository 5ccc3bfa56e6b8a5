package catalog

import (
	"context"
	"errors"
	"sync"

	"github.com/regcred/regcred/registry"
)

// maxMemJournal bounds the change log a Catalog keeps itself for a store without one.
const maxMemJournal = 10000

// memJournal is the change log of a Catalog over a Store that is no registry.Journal
// (store/memory, store/file, a platform's own): this Catalog's writes only, in memory,
// the last maxMemJournal of them, gone at restart.
type memJournal struct {
	mu  sync.Mutex
	seq uint64
	log []registry.Audit
}

// audited writes through the store's journal (the record and its entry in one
// transaction), or writes plainly and logs the entry in memory. It returns the entry with
// its sequence number.
func (c *Catalog) audited(a registry.Audit, journaled func(registry.Journal) (registry.Audit, error), plain func() error) (registry.Audit, error) {
	if j, ok := c.store.(registry.Journal); ok {
		saved, err := journaled(j)
		if !errors.Is(err, errors.ErrUnsupported) {
			return saved, err
		}
	}
	if err := plain(); err != nil {
		return registry.Audit{}, err
	}
	m := &c.journal
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	a = a.Clone()
	a.Seq = m.seq
	if len(m.log) == maxMemJournal {
		m.log = append(m.log[:0], m.log[1:]...)
	}
	m.log = append(m.log, a)
	return a, nil
}

// newAudit is the entry of a change by the principal of ctx; before is nil for an add,
// after nil for a delete.
func (c *Catalog) newAudit(ctx context.Context, action string, before, after *registry.Registry) registry.Audit {
	a := registry.Audit{Time: c.stamp(), Actor: actor(ctx), Action: action}
	switch {
	case after == nil:
		a.ID, a.Name, a.Version = before.ID, before.Name, before.Version
	default:
		a.ID, a.Name, a.Version = after.ID, after.Name, after.Version
		if before != nil {
			a.Fields = registry.ChangedFields(*before, *after)
		}
	}
	return a
}

// Changes returns the change log after sequence since, oldest first, at most limit
// entries (limit <= 0: all): who changed which registry, when, how, and the names of the
// fields that changed. A consumer that acts on changes (a webhook, a mail; run it on the
// leader only) stores the Seq of the last entry it handled and resumes from it after a
// restart or a failover: nothing is lost and nothing is handled twice.
//
// Over a store that implements registry.Journal (store/sqlite, store/postgres, and
// store/sealed over either) the log is the store's, written in the same transaction as
// each record and shared by every replica. Over any other store (store/memory,
// store/file) it is this Catalog's own writes only, the last 10,000, kept in memory and
// lost at restart.
//
// With an Authorizer, the entries shown are those of registries the principal may view;
// entries of deleted registries only to a principal holding RoleAdmin.
func (c *Catalog) Changes(ctx context.Context, since uint64, limit int) ([]registry.Audit, error) {
	var out []registry.Audit
	var err error
	j, ok := c.store.(registry.Journal)
	if ok {
		out, err = j.Changes(ctx, since, limit)
	}
	if !ok || errors.Is(err, errors.ErrUnsupported) {
		out, err = c.journal.changes(since, limit), nil
	}
	if err != nil {
		return nil, &registry.Error{Op: "changes", Err: err}
	}
	if c.authz == nil {
		return out, nil
	}
	all, err := c.store.List(ctx)
	if err != nil {
		return nil, &registry.Error{Op: "changes", Err: err}
	}
	byID := make(map[string]registry.Registry, len(all))
	for _, r := range all {
		byID[r.ID] = r
	}
	p, _ := PrincipalFrom(ctx)
	kept := out[:0]
	for _, a := range out {
		r, live := byID[a.ID]
		if live && c.authorize(ctx, ActionView, r) == nil || !live && p.User != "" && p.Has(RoleAdmin) {
			kept = append(kept, a)
		}
	}
	return kept, nil
}

func (m *memJournal) changes(since uint64, limit int) []registry.Audit {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []registry.Audit{}
	for _, a := range m.log {
		if a.Seq > since && (limit <= 0 || len(out) < limit) {
			out = append(out, a.Clone())
		}
	}
	return out
}

// feedLog follows a Journal store's change log beside its change feed, so that events of
// changes made elsewhere (another Catalog, process or replica) carry their actor,
// sequence and fields too. Guarded by Catalog.evMu.
type feedLog struct {
	j       registry.Journal // nil: the store keeps no log
	seq     uint64           // read up to here
	pending map[changeKey]registry.Audit
}

// maxPendingLog bounds the entries read ahead of their feed change (own writes' entries,
// whose echoes are not observed, are dropped with them).
const maxPendingLog = 4096

// startLog starts following the log at its end. The caller holds c.evMu.
func (c *Catalog) startLog(ctx context.Context) {
	j, ok := c.store.(registry.Journal)
	if !ok {
		return
	}
	seq, err := j.LastSeq(ctx)
	if err != nil {
		if !errors.Is(err, errors.ErrUnsupported) {
			c.log.Warn("registry catalog: read the change log", "error", err)
		}
		return
	}
	c.flog = feedLog{j: j, seq: seq, pending: map[changeKey]registry.Audit{}}
}

// logged returns the audit entry of the change op of id at version (for a delete seen as
// a missing record, version 0: the latest delete of id read), reading the log on from
// where it was read; the zero Audit when the store keeps none or it is not there. The
// caller holds c.evMu.
func (c *Catalog) logged(ctx context.Context, op registry.ChangeOp, id string, version int64) registry.Audit {
	f := &c.flog
	if f.j == nil {
		return registry.Audit{}
	}
	find := func() (registry.Audit, bool) {
		if version == 0 {
			var best registry.Audit
			for k, a := range f.pending {
				if k.op == op && k.id == id && a.Seq > best.Seq {
					best = a
				}
			}
			delete(f.pending, changeKey{op, id, best.Version})
			return best, best.Seq > 0
		}
		k := changeKey{op, id, version}
		a, ok := f.pending[k]
		delete(f.pending, k)
		return a, ok
	}
	if a, ok := find(); ok {
		return a
	}
	entries, err := f.j.Changes(ctx, f.seq, 0)
	if err != nil {
		c.log.Warn("registry catalog: read the change log", "error", err)
		return registry.Audit{}
	}
	for _, a := range entries {
		op := registry.ChangePut
		if a.Action == string(ActionDelete) {
			op = registry.ChangeDelete
		}
		if len(f.pending) >= maxPendingLog {
			clear(f.pending)
		}
		f.pending[changeKey{op, a.ID, a.Version}] = a
		f.seq = a.Seq
	}
	a, _ := find()
	return a
}
