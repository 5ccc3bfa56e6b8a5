package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/internal/fanout"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
	"github.com/regcred/regcred/registry/keychain"
	"github.com/regcred/regcred/registry/transport"
)

// Catalog is the saved registries of a platform: the "Container Registries" settings page
// over a Store, and the one source every consumer gets credentials from. It validates
// what it saves, edits the way a settings form edits (Merge), rotates credentials with
// optimistic concurrency, keeps exactly one default, guards deletes (not while in use),
// records every change in a change log (Changes), and hands out redacted views only.
// Built WithAuthorizer, it authorizes every operation for the principal of its context
// (the table in the package doc); built without, it serves one trusted operator.
//
// Consumers never touch secrets: the Keychain (KeychainFor for a scoped Subject), the one
// Provider of each registry (Provider, ProviderFactory for the kube Syncer and other
// adapters), connection tests of saved records and of drafts (Test, TestDraft). Reveal
// is the explicit full-record read for the few that need one.
//
// One provider per registry per process: every consumer of a Catalog gets the same
// Provider for a record version, so a token kind fetches one token per lifetime however
// many consumers use it. When the Store implements Watcher, the Catalog follows its
// change feed: a record changed through another Catalog, process or replica drops what
// was cached for it (its provider, the Keychain) without Invalidate, and Subscribe
// reports every change. Close stops that.
//
// Health is recorded as the Catalog works (Test, token fetches through its providers,
// SetConsumers) and kept beside the record (HealthStore), or in memory for other stores.
//
// Methods are safe for concurrent use. Writes through one Catalog are serialized; writes
// from several Catalogs (or processes) over one Store are kept apart by the Store's
// version check, which refuses the loser with ErrConflict.
type Catalog struct {
	store   registry.Store
	clk     clock.Clock
	newID   func() string
	usage   UsageFunc
	factory registry.ProviderFactory
	log     *slog.Logger
	authz   Authorizer // nil: one trusted operator, nothing is checked
	journal memJournal // the change log, for a store that keeps none
	key     []byte     // HMAC key of the secret fingerprints kept in memory

	mu  sync.Mutex    // serializes writes
	gen atomic.Uint64 // bumped after every change seen

	pmu       sync.Mutex
	providers map[string]*sharedProvider // by ID, the one provider of a record version

	kcMu    sync.Mutex
	kc      *keychain.Keychain
	kcGen   uint64
	kcBuilt bool

	hmu       sync.Mutex
	healthMem map[string]registry.Health // when the store is not a HealthStore

	events    *fanout.Fanout[Event]
	watchOnce sync.Once
	watchCtx  context.Context
	watchStop context.CancelFunc
	watchDone chan struct{}
	evMu      sync.Mutex          // orders the handling of changes
	snap      map[string]recState // what subscribers were last told, by ID
	snapReady bool
	watching  bool                   // the feed is followed
	own       map[changeKey]struct{} // this Catalog's writes whose echo is still due
	flog      feedLog                // the store's change log as the feed follows it
}

type sharedProvider struct {
	version int64
	gen     uint64 // Catalog.gen when the version was last known current
	p       *observedProvider
}

// UsageFunc reports what references a registry (deployments, services, projects), so the
// Catalog refuses to delete it while anything does. It gets the redacted record.
type UsageFunc func(ctx context.Context, r registry.Registry) (refs []string, err error)

// CatalogOption configures NewCatalog.
type Option interface {
	applyCatalog(*Catalog)
}

type catalogOptionFunc func(*Catalog)

func (f catalogOptionFunc) applyCatalog(c *Catalog) { f(c) }

// WithProviderFactory sets how a record becomes a Provider. The default, StaticFactory,
// knows the static kinds only; pass providers.Factory() for token kinds.
func WithProviderFactory(f registry.ProviderFactory) Option {
	return catalogOptionFunc(func(c *Catalog) {
		if f != nil {
			c.factory = f
		}
	})
}

// WithLogger sets the logger for what is noticed along the way (a change feed that fails,
// a registry shadowed by another). The library never prints; the default discards.
func WithLogger(l *slog.Logger) Option {
	return catalogOptionFunc(func(c *Catalog) {
		if l != nil {
			c.log = l
		}
	})
}

// WithAuthorizer makes the Catalog authorize every operation: the principal the context
// carries (WithPrincipal) must be allowed the operation's Action on the record by a, and an
// operation without a principal is refused. DefaultPolicy is the documented default.
// Without this option the Catalog serves one trusted operator and checks nothing; a
// platform with more than one user passes it.
func WithAuthorizer(a Authorizer) Option {
	return catalogOptionFunc(func(c *Catalog) { c.authz = a })
}

// WithClock sets the clock that stamps Created and Updated and the health records, and
// times the retries of the change feed (default clock.Real{}).
func WithClock(c clock.Clock) Option {
	return catalogOptionFunc(func(cat *Catalog) {
		if c != nil {
			cat.clk = c
		}
	})
}

// WithNow is WithClock for a bare time function (retries then wait on the real clock).
func WithNow(now func() time.Time) Option {
	return catalogOptionFunc(func(c *Catalog) {
		if now != nil {
			c.clk = nowClock(now)
		}
	})
}

type nowClock func() time.Time

func (f nowClock) Now() time.Time                       { return f() }
func (f nowClock) NewTimer(d time.Duration) clock.Timer { return clock.Real{}.NewTimer(d) }

// WithIDs sets how new records get their ID (default "reg-" and 16 random hex digits).
func WithIDs(newID func() string) Option {
	return catalogOptionFunc(func(c *Catalog) {
		if newID != nil {
			c.newID = newID
		}
	})
}

// WithUsage sets the hook that reports what references a registry; Delete refuses while it
// reports anything.
func WithUsage(f UsageFunc) Option {
	return catalogOptionFunc(func(c *Catalog) { c.usage = f })
}

// NewCatalog returns a Catalog over s. It does no I/O: the change feed of a Watcher store
// is opened by the first Keychain, Provider or Subscribe.
func New(s registry.Store, opts ...Option) *Catalog {
	c := &Catalog{
		store:     s,
		clk:       clock.Real{},
		newID:     randomID,
		factory:   registry.StaticFactory,
		log:       slog.New(slog.DiscardHandler),
		providers: map[string]*sharedProvider{},
		healthMem: map[string]registry.Health{},
		snap:      map[string]recState{},
		own:       map[changeKey]struct{}{},
		watchDone: make(chan struct{}),
	}
	c.key = make([]byte, 32)
	rand.Read(c.key)
	c.events = fanout.NewFanout(0, Event{Op: EventResync}, func(e Event) bool { return e.Op == EventResync })
	c.watchCtx, c.watchStop = context.WithCancel(context.Background())
	for _, o := range opts {
		if o != nil {
			o.applyCatalog(c)
		}
	}
	return c
}

func randomID() string {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	return "reg-" + hex.EncodeToString(b[:])
}

func (c *Catalog) stamp() time.Time { return c.clk.Now().UTC() }

// Add validates r and saves it as a new record: a fresh ID (unless r has one), Version 1,
// Created and Updated now. One added with Default set becomes the only default (choosing
// the default is ActionSetDefault: the first registry does not become it unasked, which
// would let any user choose everyone's default). A redacted view is refused (ErrRedacted). The principal of ctx, when
// there is one, becomes the Owner. It returns the saved record, redacted.
func (c *Catalog) Add(ctx context.Context, r registry.Registry) (registry.Registry, error) {
	if r.IsRedacted() {
		return registry.Registry{}, &registry.Error{Op: "add", Registry: r.Name, Err: fmt.Errorf("%w (give the real credential values)", registry.ErrRedacted)}
	}
	if p, ok := PrincipalFrom(ctx); ok && p.User != "" {
		r.Owner = p.User // the principal who adds a registry owns it
	}
	r, err := registry.Merge(registry.Registry{}, r)
	if err != nil {
		return registry.Registry{}, err
	}
	if err := c.authorize(ctx, ActionAdd, r); err != nil {
		return registry.Registry{}, err
	}
	if r.Default {
		if err := c.authorize(ctx, ActionSetDefault, r); err != nil {
			return registry.Registry{}, err
		}
	}
	if err := c.validate(r); err != nil {
		return registry.Registry{}, &registry.Error{Op: "add", Registry: r.Name, Err: err}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	all, err := c.store.List(ctx)
	if err != nil {
		return registry.Registry{}, &registry.Error{Op: "add", Registry: r.Name, Err: err}
	}
	if r.ID == "" {
		r.ID = c.newID()
	}
	if err := mirrorsWith(all, r); err != nil {
		return registry.Registry{}, &registry.Error{Op: "add", Registry: r.Name, Err: err}
	}
	r.Version = 1
	r.Created = c.stamp()
	r.Updated = r.Created
	if err := c.put(ctx, string(ActionAdd), nil, r); err != nil {
		return registry.Registry{}, &registry.Error{Op: "add", Registry: r.Name, Err: err}
	}
	if r.Default {
		if err := c.clearDefaults(ctx, all, r.ID); err != nil {
			return r.Redacted(), &registry.Error{Op: "add", Registry: r.Name, Err: err}
		}
	}
	return r.Redacted(), nil
}

// clearDefaults unsets Default on every record of all but keep. The caller holds c.mu.
func (c *Catalog) clearDefaults(ctx context.Context, all []registry.Registry, keep string) error {
	for _, o := range all {
		if o.ID == keep || !o.Default {
			continue
		}
		before := o.Clone()
		o.Default = false
		o.Version++
		o.Updated = c.stamp()
		if err := c.put(ctx, "unset-default", &before, o); err != nil {
			return fmt.Errorf("clear default on %s: %w", o.Name, err)
		}
	}
	return nil
}

// Update saves an edit of a record: rotation of credentials, a new name or server, a TLS
// change, a scope. r.Version must be the version the caller read; otherwise it fails with
// ErrConflict (someone else changed the record: reload and retry). The edit is read by
// Merge's rules: a blank secret field (or one sent back as Redacted in a redacted view)
// keeps the stored secret, ClearFields clears secrets explicitly, a Default left false
// keeps the stored flag unless UnsetDefault, and changing the kind needs every field of
// the new kind. Setting Default makes it the only default. It returns the saved record
// (Version+1), redacted. An edit that changes nothing (the form sent back as shown) writes
// nothing and returns the stored record: no version, no event, no new provider. With an
// Authorizer, the edit needs each action it really takes (package doc).
func (c *Catalog) Update(ctx context.Context, r registry.Registry, opts ...registry.MergeOption) (registry.Registry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, err := c.store.Get(ctx, r.ID)
	if err != nil {
		return registry.Registry{}, &registry.Error{Op: "update", Registry: r.Name, Err: err}
	}
	if err := c.authorize(ctx, ActionView, cur); err != nil {
		return registry.Registry{}, err
	}
	if r.Version != cur.Version {
		return registry.Registry{}, &registry.Error{Op: "update", Registry: cur.Name, Err: fmt.Errorf(
			"the record is at version %d, the update was made from version %d (reload and retry): %w", cur.Version, r.Version, registry.ErrConflict)}
	}
	next, err := registry.Merge(cur, r, opts...)
	if err != nil {
		return registry.Registry{}, err
	}
	actions := editActions(cur, next)
	if len(actions) == 0 {
		// The form sent back unchanged: no new version, no event, no new token.
		if err := c.authorize(ctx, ActionEdit, cur); err != nil {
			return registry.Registry{}, err
		}
		return cur.Redacted(), nil
	}
	for _, a := range actions {
		if err := c.authorize(ctx, a, cur); err != nil {
			return registry.Registry{}, err
		}
	}
	if err := c.validate(next); err != nil {
		return registry.Registry{}, &registry.Error{Op: "update", Registry: cur.Name, Err: err}
	}
	var all []registry.Registry // listed at most once: clearDefaults skips next, so a list from before the write does, as in Add
	if next.Mirror != nil || next.Host() != cur.Host() {
		if all, err = c.store.List(ctx); err != nil {
			return registry.Registry{}, &registry.Error{Op: "update", Registry: cur.Name, Err: err}
		}
		if err := mirrorsWith(all, next); err != nil {
			return registry.Registry{}, &registry.Error{Op: "update", Registry: cur.Name, Err: err}
		}
	}
	next.Version = cur.Version + 1
	next.Updated = c.stamp()
	if err := c.put(ctx, auditAction(actions, next), &cur, next); err != nil {
		return registry.Registry{}, &registry.Error{Op: "update", Registry: cur.Name, Err: err}
	}
	if next.Default && !cur.Default {
		if all == nil {
			all, err = c.store.List(ctx)
		}
		if err == nil {
			err = c.clearDefaults(ctx, all, next.ID)
		}
		if err != nil {
			return next.Redacted(), &registry.Error{Op: "update", Registry: cur.Name, Err: err}
		}
	}
	return next.Redacted(), nil
}

// mirrorsWith checks the mirror relations of all with r added or replacing its stored
// version: no loop, no unknown upstream, mirrors of one upstream agreeing on fallback
// (ValidateMirrors). Records without a mirror cost one pass.
func mirrorsWith(all []registry.Registry, r registry.Registry) error {
	next := make([]registry.Registry, 0, len(all)+1)
	mirrored := r.Mirror != nil
	for _, o := range all {
		if o.ID != r.ID {
			next = append(next, o)
			mirrored = mirrored || o.Mirror != nil
		}
	}
	if !mirrored {
		return nil
	}
	return registry.ValidateMirrors(append(next, r))
}

// validate checks a record before it is saved.
func (c *Catalog) validate(r registry.Registry) error {
	return r.Validate()
}

// SetDefault makes the registry with id the only default.
func (c *Catalog) SetDefault(ctx context.Context, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	all, err := c.store.List(ctx)
	if err != nil {
		return &registry.Error{Op: "set default", Registry: id, Err: err}
	}
	var target *registry.Registry
	for i := range all {
		if all[i].ID == id {
			target = &all[i]
		}
	}
	if target == nil {
		return &registry.Error{Op: "set default", Registry: id, Err: registry.ErrNotFound}
	}
	if err := c.authorize(ctx, ActionSetDefault, *target); err != nil {
		return err
	}
	if !target.Default {
		t := target.Clone()
		t.Default = true
		t.Version++
		t.Updated = c.stamp()
		if err := c.put(ctx, string(ActionSetDefault), target, t); err != nil {
			return &registry.Error{Op: "set default", Registry: t.Name, Err: err}
		}
	}
	if err := c.clearDefaults(ctx, all, id); err != nil {
		return &registry.Error{Op: "set default", Registry: target.Name, Err: err}
	}
	return nil
}

// Default returns the default registry, redacted, or an error wrapping ErrNotFound when
// there is none.
func (c *Catalog) Default(ctx context.Context) (registry.Registry, error) {
	all, err := c.store.List(ctx)
	if err != nil {
		return registry.Registry{}, &registry.Error{Op: "default", Err: err}
	}
	for _, r := range all {
		if r.Default {
			if err := c.authorize(ctx, ActionView, r); err != nil {
				return registry.Registry{}, err
			}
			return r.Redacted(), nil
		}
	}
	return registry.Registry{}, &registry.Error{Op: "default", Err: fmt.Errorf("no default registry: %w", registry.ErrNotFound)}
}

// Get returns the record with id, redacted.
func (c *Catalog) Get(ctx context.Context, id string) (registry.Registry, error) {
	r, err := c.store.Get(ctx, id)
	if err != nil {
		return registry.Registry{}, &registry.Error{Op: "get", Registry: id, Err: err}
	}
	if err := c.authorize(ctx, ActionView, r); err != nil {
		return registry.Registry{}, err
	}
	return r.Redacted(), nil
}

// Reveal returns the full record with id, secrets included. It is the one read that
// reveals, named so for the few that need one (an export, a migration to another store);
// deployments get credentials through Provider, Keychain and ProviderFactory instead.
// Never send its result to a browser or a log.
func (c *Catalog) Reveal(ctx context.Context, id string) (registry.Registry, error) {
	r, err := c.store.Get(ctx, id)
	if err != nil {
		return registry.Registry{}, &registry.Error{Op: "reveal", Registry: id, Err: err}
	}
	if err := c.authorize(ctx, ActionReveal, r); err != nil {
		return registry.Registry{}, err
	}
	return r, nil
}

// RevealAll returns every full record, secrets included, sorted as List: the explicit
// full-list read for the few that need one (an export, a migration to another store).
// Adapters do not: they take the redacted views of List with ProviderFactory. Never send
// its result to a browser or a log.
func (c *Catalog) RevealAll(ctx context.Context) ([]registry.Registry, error) {
	all, err := c.store.List(ctx)
	if err != nil {
		return nil, &registry.Error{Op: "reveal", Err: err}
	}
	all = filter(all, c.allowed(ctx, ActionReveal))
	sortByName(all)
	return all, nil
}

// SyncSource returns a source for a Kubernetes Refresher (kube.NewRefresher) that reads,
// before every pass, the Catalog's records (redacted views, as List) and the target
// namespaces from namespaces (nil: none). Build the Syncer with
// kube.WithProviderFactory(c.ProviderFactory()): it resolves each record by ID to the
// Catalog's one provider, so the Secrets hold real credentials while neither the
// platform nor the source ever holds a secret (any other factory refuses a redacted view).
func (c *Catalog) SyncSource(namespaces func(ctx context.Context) ([]string, error)) func(ctx context.Context) ([]registry.Registry, []string, error) {
	return func(ctx context.Context) ([]registry.Registry, []string, error) {
		regs, err := c.List(ctx)
		if err != nil {
			return nil, nil, err
		}
		var ns []string
		if namespaces != nil {
			if ns, err = namespaces(ctx); err != nil {
				return nil, nil, &registry.Error{Op: "sync source", Err: fmt.Errorf("namespaces: %w", err)}
			}
		}
		return regs, ns, nil
	}
}

// List returns every record, redacted, sorted by name and then ID. Over a store that is a
// registry.RedactedLister (store/sealed) no secret is opened on the way.
func (c *Catalog) List(ctx context.Context) ([]registry.Registry, error) {
	var all []registry.Registry
	var err error
	if rl, ok := c.store.(registry.RedactedLister); ok {
		all, err = rl.ListRedacted(ctx)
	} else if all, err = c.store.List(ctx); err == nil {
		for i := range all {
			all[i] = all[i].Redacted()
		}
	}
	if err != nil {
		return nil, &registry.Error{Op: "list", Err: err}
	}
	all = filter(all, c.allowed(ctx, ActionList))
	sortByName(all)
	return all, nil
}

func sortByName(all []registry.Registry) {
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Name != all[j].Name {
			return all[i].Name < all[j].Name
		}
		return all[i].ID < all[j].ID
	})
}

// Delete removes the registry with id on behalf of the principal ctx carries: with an
// Authorizer it must be allowed ActionDelete (DefaultPolicy: its owner or an admin); without
// one nothing is checked (one trusted operator). While
// the usage hook reports references, it fails with an *InUseError (errors.Is ErrInUse) that
// lists them; when the hook itself fails, nothing is deleted. Deleting the default leaves
// no default.
func (c *Catalog) Delete(ctx context.Context, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, err := c.store.Get(ctx, id)
	if err != nil {
		return &registry.Error{Op: "delete", Registry: id, Err: err}
	}
	if err := c.authorize(ctx, ActionDelete, cur); err != nil {
		return err
	}
	// A mirror that names this record as its upstream (by ID) would be left pointing
	// nowhere: it is a use like any other.
	all, err := c.store.List(ctx)
	if err != nil {
		return &registry.Error{Op: "delete", Registry: cur.Name, Err: err}
	}
	var mirrors []string
	for _, o := range all {
		if o.ID != id && o.Mirror != nil && o.Mirror.Of == id {
			mirrors = append(mirrors, "mirror "+o.Name)
		}
	}
	if len(mirrors) > 0 {
		sort.Strings(mirrors)
		return &InUseError{Registry: cur.Name, Refs: mirrors}
	}
	if c.usage != nil {
		refs, err := c.usage(ctx, cur.Redacted())
		if err != nil {
			return &registry.Error{Op: "delete", Registry: cur.Name, Err: fmt.Errorf("check usage: %w", err)}
		}
		if len(refs) > 0 {
			refs = append([]string(nil), refs...)
			sort.Strings(refs)
			return &InUseError{Registry: cur.Name, Refs: refs}
		}
	}
	key := changeKey{registry.ChangeDelete, id, cur.Version}
	c.expectEcho(key)
	a := c.newAudit(ctx, string(ActionDelete), &cur, nil)
	a, err = c.audited(a, func(j registry.Journal) (registry.Audit, error) { return j.DeleteAudited(ctx, id, cur.Version, a) },
		func() error { return c.store.Delete(ctx, id, cur.Version) })
	if err != nil {
		c.unexpectEcho(key)
		return &registry.Error{Op: "delete", Registry: cur.Name, Err: err}
	}
	c.hmu.Lock()
	delete(c.healthMem, id)
	c.hmu.Unlock()
	c.wrote(&cur, nil, a)
	return nil
}

// Keychain returns a Keychain over every record, with the Catalog's one provider of each.
// It is built on first use and rebuilt only after a change (through this Catalog, or seen
// on the store's change feed) or Invalidate; a Keychain is a snapshot, so ask the Catalog
// for it again rather than keeping it.
func (c *Catalog) Keychain(ctx context.Context) (*keychain.Keychain, error) {
	return c.keychain(ctx, c.allowed(ctx, ActionUse))
}

func (c *Catalog) keychain(ctx context.Context, keep func(registry.Registry) bool) (*keychain.Keychain, error) {
	c.startWatch()
	c.kcMu.Lock()
	defer c.kcMu.Unlock()
	g := c.gen.Load()
	if keep == nil && c.kcBuilt && c.kcGen == g {
		return c.kc, nil
	}
	all, err := c.store.List(ctx)
	if err != nil {
		return nil, &registry.Error{Op: "keychain", Err: err}
	}
	if keep != nil {
		kept := all[:0]
		for _, r := range all {
			if keep(r) {
				kept = append(kept, r)
			}
		}
		all = kept
	} else {
		c.forgetOthers(all)
	}
	factory := func(r registry.Registry) (registry.Provider, error) { return c.providerFor(r, g) }
	kc, err := keychain.New(all, keychain.WithProviderFactory(factory), keychain.WithLogger(c.log))
	if err != nil {
		return nil, err
	}
	if keep == nil {
		c.kc, c.kcGen, c.kcBuilt = kc, g, true
	}
	return kc, nil
}

// Provider returns the one provider of the registry id: built by the Catalog's factory
// (providers.Factory wraps token kinds in the refreshing cache) once per record version,
// and shared by every consumer in the process, so one token serves them all. A change to
// the record (through any Catalog on a Watcher store) makes the next call return the new
// version's provider.
func (c *Catalog) Provider(ctx context.Context, id string) (registry.Provider, error) {
	c.startWatch()
	g := c.gen.Load()
	if c.authz != nil {
		r, err := c.store.Get(ctx, id)
		if err != nil {
			return nil, &registry.Error{Op: "provider", Registry: id, Err: err}
		}
		if err := c.authorize(ctx, ActionUse, r); err != nil {
			return nil, err
		}
		return c.providerFor(r, g)
	}
	c.pmu.Lock()
	if sp, ok := c.providers[id]; ok && sp.gen == g {
		c.pmu.Unlock()
		return sp.p, nil
	}
	c.pmu.Unlock()
	r, err := c.store.Get(ctx, id)
	if err != nil {
		return nil, &registry.Error{Op: "provider", Registry: id, Err: err}
	}
	return c.providerFor(r, g)
}

// ProviderFactory returns a ProviderFactory for adapters that take one (the kube Syncer,
// dockerconfig, swarm, compose): a record with an ID gets the Catalog's one provider of
// that registry (its newest version), so the record handed to the adapter may be the
// redacted view the Catalog lists. A record without an ID (not saved) gets a provider of
// its own from the Catalog's factory.
//
// A factory has no context to carry a principal: on a Catalog WithAuthorizer it is refused
// every saved record (ErrForbidden). It is the path of trusted components (the
// controller, regcred sync), which use a Catalog without an authorizer (see the package
// doc).
func (c *Catalog) ProviderFactory() registry.ProviderFactory {
	return func(r registry.Registry) (registry.Provider, error) {
		if r.ID == "" {
			if r.IsRedacted() {
				return nil, &registry.Error{Op: "provider", Registry: r.Name, Err: registry.ErrRedacted}
			}
			return c.factory(r)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return c.Provider(ctx, r.ID)
	}
}

// providerFor returns the shared provider of r (its version), making it when needed.
func (c *Catalog) providerFor(r registry.Registry, g uint64) (registry.Provider, error) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if sp, ok := c.providers[r.ID]; ok && sp.version >= r.Version {
		if g > sp.gen && sp.version == r.Version {
			sp.gen = g
		}
		return sp.p, nil
	}
	if r.IsRedacted() {
		return nil, &registry.Error{Op: "provider", Registry: r.Name, Err: registry.ErrRedacted}
	}
	p, err := c.factory(r)
	if err != nil {
		return nil, err
	}
	op := &observedProvider{p: p, c: c, id: r.ID, name: r.Name}
	if old, ok := c.providers[r.ID]; ok {
		c.retire(old) // an older version: controller_api.go
	}
	c.providers[r.ID] = &sharedProvider{version: r.Version, gen: g, p: op}
	return op, nil
}

// forgetOthers drops the providers of records that are gone.
func (c *Catalog) forgetOthers(all []registry.Registry) {
	ids := make(map[string]bool, len(all))
	for _, r := range all {
		ids[r.ID] = true
	}
	c.pmu.Lock()
	defer c.pmu.Unlock()
	for id := range c.providers {
		if !ids[id] {
			c.retire(c.providers[id]) // controller_api.go
			delete(c.providers, id)
		}
	}
}

// drop forgets the provider of id unless it is of version keep.
func (c *Catalog) drop(id string, keep int64) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if sp, ok := c.providers[id]; ok && (keep == 0 || sp.version != keep) {
		c.retire(sp) // controller_api.go
		delete(c.providers, id)
	}
}

// Invalidate makes the next Keychain and Provider calls check the store again, for a
// Store without a change feed changed behind the Catalog's back (another process, a
// migration). Providers of records whose version did not change are kept.
func (c *Catalog) Invalidate() { c.gen.Add(1) }

// put saves r (before is the stored record, nil for a create) and reports the change.
// The caller holds c.mu.
func (c *Catalog) put(ctx context.Context, action string, before *registry.Registry, r registry.Registry) error {
	key := changeKey{registry.ChangePut, r.ID, r.Version}
	c.expectEcho(key)
	a := c.newAudit(ctx, action, before, &r)
	a, err := c.audited(a, func(j registry.Journal) (registry.Audit, error) { return j.PutAudited(ctx, r, a) },
		func() error { return c.store.Put(ctx, r) })
	if err != nil {
		c.unexpectEcho(key)
		return err
	}
	c.wrote(before, &r, a)
	return nil
}

// expectEcho notes, before a write, that the store's change feed will echo it: the
// Catalog reports its own writes itself, with exactly what changed.
func (c *Catalog) expectEcho(k changeKey) {
	c.evMu.Lock()
	if c.watching {
		c.own[k] = struct{}{}
	}
	c.evMu.Unlock()
}

func (c *Catalog) unexpectEcho(k changeKey) {
	c.evMu.Lock()
	delete(c.own, k)
	c.evMu.Unlock()
}

// wrote is called after every write through this Catalog (before and after are nil for a
// create and a delete): it drops what was cached and tells the subscribers at once.
// The caller holds c.mu.
func (c *Catalog) wrote(before, after *registry.Registry, a registry.Audit) {
	id := ""
	switch {
	case after == nil:
		id = before.ID
		c.drop(id, 0)
	default:
		id = after.ID
		c.drop(id, after.Version)
	}
	c.gen.Add(1)
	c.evMu.Lock()
	defer c.evMu.Unlock()
	var prev, next *recState
	if before != nil {
		s := c.state(*before)
		prev = &s
	}
	if after != nil {
		s := c.state(*after)
		next = &s
	}
	c.events.Publish(withAudit(classify(prev, next), a)...)
	if c.watching {
		if next != nil {
			c.snap[id] = *next
		} else {
			delete(c.snap, id)
		}
	}
}

// changeKey identifies a change on the feed.
type changeKey struct {
	op      registry.ChangeOp
	id      string
	version int64
}

// InUseError is Delete's refusal while something references the registry.
// errors.Is(err, ErrInUse) holds.
type InUseError struct {
	Registry string   // the registry's name
	Refs     []string // what references it, as the usage hook reported, sorted
}

func (e *InUseError) Error() string {
	const show = 10
	refs := e.Refs
	more := ""
	if len(refs) > show {
		more = fmt.Sprintf(" and %d more", len(refs)-show)
		refs = refs[:show]
	}
	noun := "references"
	if len(e.Refs) == 1 {
		noun = "reference"
	}
	return fmt.Sprintf("delete %s: in use by %d %s: %s%s (remove them from it first)",
		e.Registry, len(e.Refs), noun, strings.Join(refs, ", "), more)
}

// Is makes errors.Is(err, ErrInUse) true.
func (e *InUseError) Is(target error) bool { return target == registry.ErrInUse }

// String summarizes the catalog; it never prints a record or a provider.
func (c *Catalog) String() string { return "catalog.Catalog{" + fmt.Sprint(c.store) + "}" }

// Format prints String under every verb.
func (c *Catalog) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue keeps slog from encoding the catalog's internals.
func (c *Catalog) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Test runs the connection test (see Test) on the saved record id with its real
// credentials, through the Catalog's one provider of the record unless opts name another,
// and records the outcome in the record's Health. The record never leaves the Catalog
// unredacted; the Report holds no secret.
func (c *Catalog) Test(ctx context.Context, id string, opts ...conntest.Option) (*conntest.Report, error) {
	r, err := c.store.Get(ctx, id)
	if err != nil {
		return nil, &registry.Error{Op: "test", Registry: id, Err: err}
	}
	if err := c.authorize(ctx, ActionTest, r); err != nil {
		return nil, err
	}
	base := []conntest.Option{conntest.WithFactory(c.factory)}
	if p, err := c.providerFor(r, c.gen.Load()); err == nil {
		base = append(base, conntest.WithProvider(p))
	}
	rep := conntest.Test(ctx, r, append(base, opts...)...)
	c.recordHealth(ctx, id, func(h *registry.Health) { h.Test = testHealth(rep, r.Version, c.stamp()) })
	return rep, nil
}

// DraftOption configures TestDraft: WithMerge (ClearFields, UnsetDefault) reads the
// draft as Update would; WithTestOptions passes options to the test.
type DraftOption interface {
	applyDraft(*draftConfig)
}

type draftConfig struct {
	merge []registry.MergeOption
	test  []conntest.Option
}

type draftOption func(*draftConfig)

func (o draftOption) applyDraft(c *draftConfig) { o(c) }

// WithMerge says how TestDraft reads the draft, as Update reads an edit (ClearFields,
// UnsetDefault).
func WithMerge(opts ...registry.MergeOption) DraftOption {
	return draftOption(func(c *draftConfig) { c.merge = append(c.merge, opts...) })
}

// WithTestOptions passes options to the connection test of TestDraft.
func WithTestOptions(opts ...conntest.Option) DraftOption {
	return draftOption(func(c *draftConfig) { c.test = append(c.test, opts...) })
}

// TestDraft tests a form before it is saved, by the same rules Update saves it with
// (Merge): a draft edit of a saved record (draft.ID names it) whose secret fields were
// left blank is tested with the stored secrets; a new record (no ID, or an ID not saved)
// is tested as it is and must carry real values (ErrRedacted for a redacted view). The
// draft's provider is its own (its credentials may differ from the saved ones); nothing is
// saved and no health is recorded. The Report says what is wrong, field problems
// included (its fields step).
func (c *Catalog) TestDraft(ctx context.Context, draft registry.Registry, opts ...DraftOption) (*conntest.Report, error) {
	var cfg draftConfig
	for _, o := range opts {
		if o != nil {
			o.applyDraft(&cfg)
		}
	}
	var stored registry.Registry
	var err error
	if draft.ID != "" {
		cur, err := c.store.Get(ctx, draft.ID)
		switch {
		case err == nil:
			stored = cur
		case !errors.Is(err, registry.ErrNotFound):
			return nil, &registry.Error{Op: "test draft", Registry: draft.Name, Err: err}
		}
	}
	if stored.ID != "" {
		err = c.authorize(ctx, ActionTest, stored)
	} else {
		err = c.authorize(ctx, ActionAdd, draft) // a new record's draft carries only what was typed
	}
	if err != nil {
		return nil, err
	}
	r, err := registry.Merge(stored, draft, cfg.merge...)
	if err != nil {
		return nil, err
	}
	// A transport cache of its own: the draft may change the server or TLS settings of a
	// saved record at the same ID and version.
	tc := &transport.Cache{}
	defer tc.CloseIdleConnections()
	return conntest.Test(ctx, r, append([]conntest.Option{conntest.WithFactory(c.factory), conntest.WithTransportCache(tc)}, cfg.test...)...), nil
}

// KeychainFor returns a Keychain over the registries sub may use (Scope.Allows), with the
// Catalog's one provider of each. Build it per request or per deployment; it is a
// snapshot.
func (c *Catalog) KeychainFor(ctx context.Context, sub registry.Subject) (*keychain.Keychain, error) {
	may := c.allowed(ctx, ActionUse)
	return c.keychain(ctx, func(r registry.Registry) bool { return r.Scope.Allows(sub) && (may == nil || may(r)) })
}

// ListFor returns the registries sub may use, redacted, sorted as List.
func (c *Catalog) ListFor(ctx context.Context, sub registry.Subject) ([]registry.Registry, error) {
	all, err := c.List(ctx)
	if err != nil {
		return nil, err
	}
	kept := all[:0]
	for _, r := range all {
		if r.Scope.Allows(sub) {
			kept = append(kept, r)
		}
	}
	return kept, nil
}
