package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Catalog is the saved registries of a platform: the "Container Registries" settings page
// over a Store. It validates what it saves, rotates credentials with optimistic
// concurrency, keeps exactly one default, guards deletes (owner only, not while in use),
// hands out redacted views only, and builds the Keychain pulls use.
//
// Methods are safe for concurrent use. Writes through one Catalog are serialized; writes
// from several Catalogs (or processes) over one Store are kept apart by the Store's
// version check, which refuses the loser with ErrConflict.
type Catalog struct {
	store   Store
	now     func() time.Time
	newID   func() string
	usage   UsageFunc
	factory ProviderFactory
	log     *slog.Logger

	mu  sync.Mutex    // serializes writes
	gen atomic.Uint64 // bumped after every write

	kcMu      sync.Mutex
	kc        *Keychain
	kcGen     uint64
	kcBuilt   bool
	providers map[string]cachedProvider // by ID: reused across keychain rebuilds while the version holds
}

type cachedProvider struct {
	version int64
	p       Provider
}

// UsageFunc reports what references a registry (deployments, services, projects), so the
// Catalog refuses to delete it while anything does. It gets the redacted record.
type UsageFunc func(ctx context.Context, r Registry) (refs []string, err error)

// CatalogOption configures NewCatalog. WithProviderFactory and WithLogger configure a
// Catalog too (they are Options).
type CatalogOption interface {
	applyCatalog(*Catalog)
}

type catalogOptionFunc func(*Catalog)

func (f catalogOptionFunc) applyCatalog(c *Catalog) { f(c) }

// WithClock sets the clock that stamps Created and Updated (default time.Now, in UTC).
func WithClock(now func() time.Time) CatalogOption {
	return catalogOptionFunc(func(c *Catalog) {
		if now != nil {
			c.now = now
		}
	})
}

// WithIDs sets how new records get their ID (default "reg-" and 16 random hex digits).
func WithIDs(newID func() string) CatalogOption {
	return catalogOptionFunc(func(c *Catalog) {
		if newID != nil {
			c.newID = newID
		}
	})
}

// WithUsage sets the hook that reports what references a registry; Delete refuses while it
// reports anything.
func WithUsage(f UsageFunc) CatalogOption {
	return catalogOptionFunc(func(c *Catalog) { c.usage = f })
}

// NewCatalog returns a Catalog over s.
func NewCatalog(s Store, opts ...CatalogOption) *Catalog {
	c := &Catalog{
		store:     s,
		now:       time.Now,
		newID:     randomID,
		factory:   StaticFactory,
		log:       slog.New(slog.DiscardHandler),
		providers: make(map[string]cachedProvider),
	}
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

func (c *Catalog) stamp() time.Time { return c.now().UTC() }

// Add validates r and saves it as a new record: a fresh ID (unless r has one), Version 1,
// Created and Updated now. The first registry, or one added with Default set, becomes the
// only default. It returns the saved record, redacted.
func (c *Catalog) Add(ctx context.Context, r Registry) (Registry, error) {
	if r.IsRedacted() {
		return Registry{}, &Error{Op: "add", Registry: r.Name, Err: fmt.Errorf("%w (give the real credential values)", ErrRedacted)}
	}
	r = r.Clone()
	if err := r.Validate(); err != nil {
		return Registry{}, &Error{Op: "add", Registry: r.Name, Err: err}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	all, err := c.store.List(ctx)
	if err != nil {
		return Registry{}, &Error{Op: "add", Registry: r.Name, Err: err}
	}
	if r.ID == "" {
		r.ID = c.newID()
	}
	r.Version = 1
	r.Created = c.stamp()
	r.Updated = r.Created
	if len(all) == 0 {
		r.Default = true // the first registry is the default
	}
	if err := c.store.Put(ctx, r); err != nil {
		return Registry{}, &Error{Op: "add", Registry: r.Name, Err: err}
	}
	c.changed()
	if r.Default {
		if err := c.clearDefaults(ctx, all, r.ID); err != nil {
			return r.Redacted(), &Error{Op: "add", Registry: r.Name, Err: err}
		}
	}
	return r.Redacted(), nil
}

// clearDefaults unsets Default on every record of all but keep. The caller holds c.mu.
func (c *Catalog) clearDefaults(ctx context.Context, all []Registry, keep string) error {
	for _, o := range all {
		if o.ID == keep || !o.Default {
			continue
		}
		o.Default = false
		o.Version++
		o.Updated = c.stamp()
		if err := c.store.Put(ctx, o); err != nil {
			return fmt.Errorf("clear default on %s: %w", o.Name, err)
		}
		c.changed()
	}
	return nil
}

// Update saves a changed record: rotation of credentials, a new name or server, a TLS
// change. r.Version must be the version the caller read; otherwise it fails with
// ErrConflict (someone else changed the record: reload and retry). Secret fields sent as
// "", as Redacted or left out keep their stored value, so a form can send back the
// redacted view with only the changed fields filled in. Changing the kind needs every
// field of the new kind. ID, Owner and Created cannot change. Setting Default makes it the
// only default; clearing it leaves no default. It returns the saved record (Version+1),
// redacted.
func (c *Catalog) Update(ctx context.Context, r Registry) (Registry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, err := c.store.Get(ctx, r.ID)
	if err != nil {
		return Registry{}, &Error{Op: "update", Registry: r.Name, Err: err}
	}
	if r.Version != cur.Version {
		return Registry{}, &Error{Op: "update", Registry: cur.Name, Err: fmt.Errorf(
			"the record is at version %d, the update was made from version %d (reload and retry): %w", cur.Version, r.Version, ErrConflict)}
	}
	next := r.Clone()
	next.redacted = false // the merge below puts the stored secrets back
	if next.Fields == nil {
		next.Fields = map[string]string{}
	}
	if next.Kind == cur.Kind {
		for _, f := range cur.Kind.Fields() {
			if !f.Secret {
				continue
			}
			if v := next.Fields[f.Name]; v == "" || v == Redacted {
				if old := cur.Fields[f.Name]; old != "" {
					next.Fields[f.Name] = old
				} else {
					delete(next.Fields, f.Name)
				}
			}
		}
	} else {
		for name, v := range next.Fields {
			if v == Redacted {
				return Registry{}, &Error{Op: "update", Registry: cur.Name, Err: &FieldError{Field: name,
					Reason: "is " + Redacted + " but the type changes from " + cur.Kind.Label() + " to " + next.Kind.Label(),
					Hint:   "give every credential field of the new type"}}
			}
		}
	}
	for name, v := range next.Fields {
		if v == "" {
			delete(next.Fields, name)
		}
	}
	if len(next.Fields) == 0 {
		next.Fields = nil
	}
	if err := next.Validate(); err != nil {
		return Registry{}, &Error{Op: "update", Registry: cur.Name, Err: err}
	}
	next.Owner, next.Created = cur.Owner, cur.Created
	next.Version = cur.Version + 1
	next.Updated = c.stamp()
	if err := c.store.Put(ctx, next); err != nil {
		return Registry{}, &Error{Op: "update", Registry: cur.Name, Err: err}
	}
	c.changed()
	if next.Default && !cur.Default {
		all, err := c.store.List(ctx)
		if err == nil {
			err = c.clearDefaults(ctx, all, next.ID)
		}
		if err != nil {
			return next.Redacted(), &Error{Op: "update", Registry: cur.Name, Err: err}
		}
	}
	return next.Redacted(), nil
}

// SetDefault makes the registry with id the only default.
func (c *Catalog) SetDefault(ctx context.Context, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	all, err := c.store.List(ctx)
	if err != nil {
		return &Error{Op: "set default", Registry: id, Err: err}
	}
	var target *Registry
	for i := range all {
		if all[i].ID == id {
			target = &all[i]
		}
	}
	if target == nil {
		return &Error{Op: "set default", Registry: id, Err: ErrNotFound}
	}
	if !target.Default {
		t := target.Clone()
		t.Default = true
		t.Version++
		t.Updated = c.stamp()
		if err := c.store.Put(ctx, t); err != nil {
			return &Error{Op: "set default", Registry: t.Name, Err: err}
		}
		c.changed()
	}
	if err := c.clearDefaults(ctx, all, id); err != nil {
		return &Error{Op: "set default", Registry: target.Name, Err: err}
	}
	return nil
}

// Default returns the default registry, redacted, or an error wrapping ErrNotFound when
// there is none.
func (c *Catalog) Default(ctx context.Context) (Registry, error) {
	all, err := c.store.List(ctx)
	if err != nil {
		return Registry{}, &Error{Op: "default", Err: err}
	}
	for _, r := range all {
		if r.Default {
			return r.Redacted(), nil
		}
	}
	return Registry{}, &Error{Op: "default", Err: fmt.Errorf("no default registry: %w", ErrNotFound)}
}

// Get returns the record with id, redacted.
func (c *Catalog) Get(ctx context.Context, id string) (Registry, error) {
	r, err := c.store.Get(ctx, id)
	if err != nil {
		return Registry{}, &Error{Op: "get", Registry: id, Err: err}
	}
	return r.Redacted(), nil
}

// List returns every record, redacted, sorted by name and then ID.
func (c *Catalog) List(ctx context.Context) ([]Registry, error) {
	all, err := c.store.List(ctx)
	if err != nil {
		return nil, &Error{Op: "list", Err: err}
	}
	for i := range all {
		all[i] = all[i].Redacted()
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Name != all[j].Name {
			return all[i].Name < all[j].Name
		}
		return all[i].ID < all[j].ID
	})
	return all, nil
}

// Delete removes the registry with id on behalf of actor. Only the record's Owner may
// delete it (ErrNotOwner); a record saved without an owner may be deleted by anyone. While
// the usage hook reports references, it fails with an *InUseError (errors.Is ErrInUse) that
// lists them; when the hook itself fails, nothing is deleted. Deleting the default leaves
// no default.
func (c *Catalog) Delete(ctx context.Context, id, actor string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, err := c.store.Get(ctx, id)
	if err != nil {
		return &Error{Op: "delete", Registry: id, Err: err}
	}
	if cur.Owner != "" && cur.Owner != actor {
		return &Error{Op: "delete", Registry: cur.Name, Err: fmt.Errorf("%q created it, %q asked: %w", cur.Owner, actor, ErrNotOwner)}
	}
	if c.usage != nil {
		refs, err := c.usage(ctx, cur.Redacted())
		if err != nil {
			return &Error{Op: "delete", Registry: cur.Name, Err: fmt.Errorf("check usage: %w", err)}
		}
		if len(refs) > 0 {
			refs = append([]string(nil), refs...)
			sort.Strings(refs)
			return &InUseError{Registry: cur.Name, Refs: refs}
		}
	}
	if err := c.store.Delete(ctx, id, cur.Version); err != nil {
		return &Error{Op: "delete", Registry: cur.Name, Err: err}
	}
	c.changed()
	return nil
}

// Keychain returns a Keychain over the full records. It is built on first use and rebuilt
// only after a write through this Catalog (or Invalidate); providers of records whose
// version did not change are kept across rebuilds, so their cached tokens survive.
func (c *Catalog) Keychain(ctx context.Context) (*Keychain, error) {
	c.kcMu.Lock()
	defer c.kcMu.Unlock()
	g := c.gen.Load()
	if c.kcBuilt && c.kcGen == g {
		return c.kc, nil
	}
	all, err := c.store.List(ctx)
	if err != nil {
		return nil, &Error{Op: "keychain", Err: err}
	}
	next := make(map[string]cachedProvider, len(all))
	factory := func(r Registry) (Provider, error) {
		if cp, ok := c.providers[r.ID]; ok && cp.version == r.Version {
			next[r.ID] = cp
			return cp.p, nil
		}
		p, err := c.factory(r)
		if err == nil && p != nil {
			next[r.ID] = cachedProvider{version: r.Version, p: p}
		}
		return p, err
	}
	kc, err := NewKeychain(all, WithProviderFactory(factory), WithLogger(c.log))
	if err != nil {
		return nil, err
	}
	c.kc, c.kcGen, c.kcBuilt, c.providers = kc, g, true, next
	return kc, nil
}

// Invalidate makes the next Keychain call rebuild it, for a Store changed behind the
// Catalog's back (another process, a migration).
func (c *Catalog) Invalidate() { c.gen.Add(1) }

func (c *Catalog) changed() { c.gen.Add(1) }

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
func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// String summarizes the catalog; it never prints a record or a provider.
func (c *Catalog) String() string { return "registry.Catalog{" + fmt.Sprint(c.store) + "}" }

// Format prints String under every verb.
func (c *Catalog) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue keeps slog from encoding the catalog's internals.
func (c *Catalog) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Test runs the connection test (see Test) on the saved record id with its real
// credentials, through the Catalog's provider factory unless opts name another. The
// record never leaves the Catalog unredacted; the Report holds no secret.
func (c *Catalog) Test(ctx context.Context, id string, opts ...TestOption) (*Report, error) {
	r, err := c.store.Get(ctx, id)
	if err != nil {
		return nil, &Error{Op: "test", Registry: id, Err: err}
	}
	return Test(ctx, r, append([]TestOption{WithTestFactory(c.factory)}, opts...)...), nil
}
