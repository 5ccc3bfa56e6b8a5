package kube

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regcred/regcred/registry"
)

// maxConflictRetries bounds how often one write re-reads after a resourceVersion conflict.
const maxConflictRetries = 5

// Syncer keeps pull Secrets of registries in target namespaces. See the package
// documentation for the rules. A Syncer is safe for concurrent use; passes over the same
// namespaces should not overlap (a Refresher runs them one after the other).
type Syncer struct {
	client kubernetes.Interface
	o      *options

	mu        sync.Mutex
	providers map[string]*providerEntry
}

type providerEntry struct {
	fingerprint [32]byte
	p           registry.Provider
	expires     time.Time // of the credentials last resolved
	seen        time.Time // when those credentials were first resolved
}

// NewSyncer returns a Syncer writing through client.
func NewSyncer(client kubernetes.Interface, opts ...Option) *Syncer {
	return &Syncer{client: client, o: newOptions(opts), providers: map[string]*providerEntry{}}
}

// provider returns the registry's provider, made once per record content.
func (s *Syncer) provider(r registry.Registry) (registry.Provider, error) {
	key := r.ID
	if key == "" {
		key = r.Name
	}
	// A full record's fingerprint holds its secret values, so a credential rotated without
	// a version bump is a new record. A redacted view (the Catalog's) is resolved by ID by
	// its factory, which serves the newest version; its version is in the fingerprint.
	marshal := registry.MarshalStored
	if r.IsRedacted() {
		marshal = func(r registry.Registry) ([]byte, error) { return json.Marshal(r) }
	}
	b, err := marshal(r)
	if err != nil {
		return nil, err
	}
	fp := sha256.Sum256(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.providers[key]; ok && e.fingerprint == fp {
		return e.p, nil
	}
	p, err := s.o.factory(r)
	if err != nil {
		return nil, err
	}
	s.providers[key] = &providerEntry{fingerprint: fp, p: p}
	return p, nil
}

func (s *Syncer) noteExpiry(r registry.Registry, t time.Time) {
	key := r.ID
	if key == "" {
		key = r.Name
	}
	s.mu.Lock()
	if e, ok := s.providers[key]; ok && !e.expires.Equal(t) {
		e.expires, e.seen = t, s.o.now()
	}
	s.mu.Unlock()
}

// forget drops the providers of registries that are no longer given.
func (s *Syncer) forget(regs []registry.Registry) {
	keep := make(map[string]bool, len(regs))
	for _, r := range regs {
		key := r.ID
		if key == "" {
			key = r.Name
		}
		keep[key] = true
	}
	s.mu.Lock()
	for k := range s.providers {
		if !keep[k] {
			delete(s.providers, k)
		}
	}
	s.mu.Unlock()
}

// refreshAt is when credentials first seen at seen and expiring at expires should be
// replaced: after three quarters of their lifetime.
func refreshAt(seen, expires time.Time) time.Time {
	return seen.Add(expires.Sub(seen) * 3 / 4)
}

// invalidateDue drops the cached value of providers whose credentials are due for refresh
// at now, so the next pass fetches fresh ones. It reports how many it invalidated.
func (s *Syncer) invalidateDue(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.providers {
		if e.expires.IsZero() || now.Before(refreshAt(e.seen, e.expires)) {
			continue
		}
		if ex, ok := e.p.(registry.Expirer); ok && ex.ExpiresAt().After(e.expires) {
			continue // a shared provider another consumer refreshed already: this pass writes it
		}
		if inv, ok := e.p.(registry.Invalidator); ok {
			inv.Invalidate()
			n++
		}
	}
	return n
}

// nextRefresh is the earliest time a provider's credentials are due for refresh; zero when
// none expires.
func (s *Syncer) nextRefresh() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	for _, e := range s.providers {
		if e.expires.IsZero() {
			continue
		}
		if t := refreshAt(e.seen, e.expires); next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next
}

// pass is the state of one Sync call.
type pass struct {
	s        *Syncer
	desired  []*desiredSecret
	failed   map[string]error    // secret name -> why its registry's credentials failed
	keep     map[string]bool     // every secret name the registries map to
	scopes   map[string][]string // secret name -> the registry's Scope.Namespaces (nil: every namespace)
	existing map[string]map[string]*corev1.Secret
	listed   bool // existing holds every namespace (a cluster-wide list succeeded)
	writes   atomic.Int64
}

// Sync makes the pull Secrets of regs exist and be current in every namespace of
// namespaces, writing only what differs, and (per the options) patches ServiceAccounts and
// prunes what regcred owns but no longer wants. Per-object outcomes, failures included, are
// in the Result; the error is for what stops the whole pass: invalid input (two registries
// mapping to one Secret name, no namespace at all with pruning on, or a redacted view among
// regs that the factory does not resolve: registry.ErrRedacted, before any API call) or a
// cancelled ctx. The Catalog's factory resolves redacted views by ID, so the Catalog's
// List can be synced as it is.
//
// With WithPrune, namespaces is the whole desired set: owned secrets in every other
// namespace are deleted. An empty list would delete every secret regcred owns in the
// cluster, which is far more often a bug than an intent, so it is refused with ErrInvalid.
func (s *Syncer) Sync(ctx context.Context, regs []registry.Registry, namespaces []string) (*Result, error) {
	for _, r := range regs {
		if !r.IsRedacted() {
			continue
		}
		if _, err := s.o.factory(r); errors.Is(err, registry.ErrRedacted) {
			return nil, refuseRedacted("sync", r)
		}
	}
	namespaces = uniqueSorted(namespaces)
	if s.o.prune && len(namespaces) == 0 {
		return nil, &registry.Error{Op: "sync", Err: fmt.Errorf("%w: pruning with no target namespace would delete every pull secret regcred manages in the cluster; name the namespaces to keep, or sync without pruning", registry.ErrInvalid)}
	}
	p := &pass{s: s, failed: map[string]error{}, keep: map[string]bool{}}
	s.forget(regs)
	if err := p.resolve(ctx, regs); err != nil {
		return nil, err
	}
	if err := p.list(ctx); err != nil {
		return nil, err
	}

	res := &Result{Namespaces: make([]NamespaceResult, len(namespaces))}
	targeted := make(map[string]bool, len(namespaces))
	for _, ns := range namespaces {
		targeted[ns] = true
	}
	var stale []string // namespaces no longer targeted that hold owned secrets
	if s.o.prune && p.listed {
		for ns := range p.existing {
			if !targeted[ns] {
				stale = append(stale, ns)
			}
		}
		sort.Strings(stale)
	}
	staleRes := make([]NamespaceResult, len(stale))

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.o.concurrency)
	for i, ns := range namespaces {
		g.Go(func() error {
			res.Namespaces[i] = p.namespace(gctx, ns, true)
			return gctx.Err()
		})
	}
	for i, ns := range stale {
		g.Go(func() error {
			staleRes[i] = p.namespace(gctx, ns, false)
			return gctx.Err()
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, nr := range staleRes {
		if len(nr.Items) > 0 {
			res.Namespaces = append(res.Namespaces, nr)
		}
	}
	sort.Slice(res.Namespaces, func(i, j int) bool { return res.Namespaces[i].Namespace < res.Namespaces[j].Namespace })
	for _, d := range p.desired {
		if !d.expires.IsZero() && (res.ExpiresAt.IsZero() || d.expires.Before(res.ExpiresAt)) {
			res.ExpiresAt = d.expires
		}
	}
	res.Writes = int(p.writes.Load())
	return res, nil
}

// resolve turns each registry into its desired Secret content, once for all namespaces.
func (p *pass) resolve(ctx context.Context, regs []registry.Registry) error {
	o := p.s.o
	owner := map[string]string{}
	for _, r := range regs {
		name := o.secretName(r)
		if prev, dup := owner[name]; dup {
			return &registry.Error{Op: "sync", Registry: r.Name, Err: fmt.Errorf("%w: registries %q and %q both map to secret %q: give one another ID or change WithSecretName", registry.ErrConflict, prev, r.Name, name)}
		}
		owner[name] = r.Name
		p.keep[name] = true
		if len(r.Scope.Namespaces) > 0 {
			if p.scopes == nil {
				p.scopes = map[string][]string{}
			}
			p.scopes[name] = r.Scope.Namespaces
		}
	}
	out := make([]*desiredSecret, len(regs))
	errs := make([]error, len(regs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.concurrency)
	for i, r := range regs {
		g.Go(func() error {
			prov, err := p.s.provider(r)
			if err == nil {
				out[i], err = o.desired(gctx, r, prov)
			}
			if err != nil {
				errs[i] = err
				o.logger.Warn("kube: credentials failed; keeping existing secrets", "registry", r.Name, "error", err)
			} else if out[i] != nil {
				p.s.noteExpiry(r, out[i].expires)
			}
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, r := range regs {
		switch {
		case errs[i] != nil:
			p.failed[o.secretName(r)] = fmt.Errorf("%w: %w", errCredentials, errs[i])
		case out[i] != nil:
			p.desired = append(p.desired, out[i])
		default:
			delete(p.keep, o.secretName(r)) // public: no secret; an old one is pruned
		}
	}
	return nil
}

// list reads the owned Secrets of every namespace in one request. When the client may not
// list cluster-wide, each namespace is listed on its own during the pass (and namespaces
// that are no longer targeted cannot be pruned).
func (p *pass) list(ctx context.Context) error {
	sel := metav1.ListOptions{LabelSelector: LabelManagedBy + "=" + p.s.o.managedBy}
	list, err := p.s.client.CoreV1().Secrets(metav1.NamespaceAll).List(ctx, sel)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.s.o.logger.Debug("kube: cluster-wide list refused; listing per namespace", "error", err)
		return nil
	}
	p.listed = true
	p.existing = map[string]map[string]*corev1.Secret{}
	for i := range list.Items {
		sec := &list.Items[i]
		m := p.existing[sec.Namespace]
		if m == nil {
			m = map[string]*corev1.Secret{}
			p.existing[sec.Namespace] = m
		}
		m[sec.Name] = sec
	}
	return nil
}

// namespace syncs one namespace: targeted ones get every desired Secret; with pruning,
// owned Secrets not wanted there are deleted.
func (p *pass) namespace(ctx context.Context, ns string, targeted bool) NamespaceResult {
	o := p.s.o
	nr := NamespaceResult{Namespace: ns}
	existing := p.existing[ns]
	if !p.listed {
		list, err := p.s.client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: LabelManagedBy + "=" + o.managedBy})
		if err != nil {
			nr.Items = append(nr.Items, Item{Kind: "Secret", Action: Failed, Err: apiError("list", "secrets", ns, "", err)})
			return nr
		}
		existing = map[string]*corev1.Secret{}
		for i := range list.Items {
			existing[list.Items[i].Name] = &list.Items[i]
		}
	}
	present := map[string]bool{}
	if targeted {
		for _, d := range p.desired {
			if !p.inScope(d.name, ns) {
				continue
			}
			it := p.apply(ctx, ns, d, existing[d.name])
			if it.Action != Failed {
				present[d.name] = true
			}
			nr.Items = append(nr.Items, it)
		}
		names := make([]string, 0, len(p.failed))
		for name := range p.failed {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if !p.inScope(name, ns) {
				continue
			}
			nr.Items = append(nr.Items, Item{Kind: "Secret", Name: name, Action: Failed, Err: p.failed[name]})
			if existing[name] != nil {
				present[name] = true
			}
		}
	}
	var pruned []string
	if o.prune {
		for _, name := range sortedKeys(existing) {
			if targeted && p.keep[name] && p.inScope(name, ns) {
				continue
			}
			it := p.prune(ctx, existing[name])
			if it.Action == Pruned {
				pruned = append(pruned, name)
			}
			nr.Items = append(nr.Items, it)
		}
	}
	if targeted || len(pruned) > 0 {
		for _, sa := range o.serviceAccounts {
			nr.Items = append(nr.Items, p.patchServiceAccount(ctx, ns, sa, sortedKeys(present), pruned, targeted))
		}
	}
	return nr
}

// inScope reports whether the registry behind secret name may be used in namespace ns: its
// Scope.Namespaces (names or path.Match patterns) is empty or matches. The Scope's teams
// and projects are the platform's to check; a namespace is what the Syncer knows. A
// registry scoped out of a namespace gets no Secret there, and with pruning its old one
// is deleted.
func (p *pass) inScope(name, ns string) bool {
	pats, ok := p.scopes[name]
	if !ok {
		return true
	}
	return registry.Scope{Namespaces: pats}.Allows(registry.Subject{Namespace: ns})
}

// unchanged reports whether cur already holds d: same type and data (compared byte for
// byte: the encoding is deterministic), labelled ours, and free of the legacy hash
// annotation.
func (p *pass) unchanged(cur *corev1.Secret, d *desiredSecret) bool {
	_, legacy := cur.Annotations[LegacyAnnotationHash]
	return cur.Type == corev1.SecretTypeDockerConfigJson &&
		!legacy &&
		bytes.Equal(cur.Data[corev1.DockerConfigJsonKey], d.data) &&
		len(cur.Data) == 1 &&
		cur.Labels[LabelRegistryID] == labelValue(d.reg.ID) &&
		cur.Annotations[AnnotationExpiresAt] == formatExpiry(d.expires)
}

func formatExpiry(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// apply creates or updates one Secret. cur is the owned Secret the list found, or nil.
func (p *pass) apply(ctx context.Context, ns string, d *desiredSecret, cur *corev1.Secret) Item {
	it := Item{Kind: "Secret", Name: d.name, Registry: d.reg.Name}
	secrets := p.s.client.CoreV1().Secrets(ns)
	for attempt := 0; attempt <= maxConflictRetries; attempt++ {
		if cur == nil {
			p.writes.Add(1)
			_, err := secrets.Create(ctx, d.secret(ns, p.s.o), metav1.CreateOptions{})
			if err == nil {
				it.Action = Created
				return it
			}
			if !apierrors.IsAlreadyExists(err) {
				it.Action, it.Err = Failed, apiError("create", "secret", ns, d.name, err)
				return it
			}
			// Someone has that name: ours (made concurrently, or unlabelled list miss) or not.
			got, err := secrets.Get(ctx, d.name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				it.Action, it.Err = Failed, apiError("get", "secret", ns, d.name, err)
				return it
			}
			cur = got
		}
		if !Owned(cur, p.s.o.managedBy) {
			it.Action, it.Err = Failed, &ConflictError{Namespace: ns, Name: d.name, ManagedBy: cur.Labels[LabelManagedBy]}
			return it
		}
		if p.unchanged(cur, d) {
			it.Action = Unchanged
			return it
		}
		if cur.Type != corev1.SecretTypeDockerConfigJson {
			// The type is immutable: replace our own Secret.
			p.writes.Add(1)
			uid := cur.UID
			err := secrets.Delete(ctx, d.name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			if err != nil && !apierrors.IsNotFound(err) {
				it.Action, it.Err = Failed, apiError("replace", "secret", ns, d.name, err)
				return it
			}
			cur = nil
			continue
		}
		next := p.merge(cur, d)
		p.writes.Add(1)
		_, err := secrets.Update(ctx, next, metav1.UpdateOptions{})
		if err == nil {
			it.Action = Updated
			return it
		}
		switch {
		case apierrors.IsConflict(err):
			got, gerr := secrets.Get(ctx, d.name, metav1.GetOptions{})
			if apierrors.IsNotFound(gerr) {
				cur = nil
				continue
			}
			if gerr != nil {
				it.Action, it.Err = Failed, apiError("get", "secret", ns, d.name, gerr)
				return it
			}
			cur = got
		case apierrors.IsNotFound(err):
			cur = nil
		default:
			it.Action, it.Err = Failed, apiError("update", "secret", ns, d.name, err)
			return it
		}
	}
	it.Action, it.Err = Failed, fmt.Errorf("update secret %s/%s: %w: still changing after %d re-reads", ns, d.name, registry.ErrConflict, maxConflictRetries)
	return it
}

// merge returns cur with d's content, keeping others' labels and annotations.
func (p *pass) merge(cur *corev1.Secret, d *desiredSecret) *corev1.Secret {
	want := d.secret(cur.Namespace, p.s.o)
	next := cur.DeepCopy()
	if next.Labels == nil {
		next.Labels = map[string]string{}
	}
	if next.Annotations == nil {
		next.Annotations = map[string]string{}
	}
	delete(next.Annotations, AnnotationExpiresAt)
	delete(next.Annotations, LegacyAnnotationHash)
	for k, v := range want.Labels {
		next.Labels[k] = v
	}
	for k, v := range want.Annotations {
		next.Annotations[k] = v
	}
	next.Data = want.Data
	next.StringData = nil
	return next
}

// prune deletes an owned Secret, only if it is still the one that was listed.
func (p *pass) prune(ctx context.Context, cur *corev1.Secret) Item {
	it := Item{Kind: "Secret", Name: cur.Name, Registry: cur.Annotations[AnnotationRegistry]}
	uid := cur.UID
	p.writes.Add(1)
	err := p.s.client.CoreV1().Secrets(cur.Namespace).Delete(ctx, cur.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	switch {
	case err == nil, apierrors.IsNotFound(err):
		it.Action = Pruned
	default:
		it.Action, it.Err = Failed, apiError("delete", "secret", cur.Namespace, cur.Name, err)
	}
	return it
}

// patchServiceAccount adds add to the ServiceAccount's imagePullSecrets and removes remove,
// keeping every other entry. A missing ServiceAccount is a failure unless the namespace is
// only being cleaned up.
func (p *pass) patchServiceAccount(ctx context.Context, ns, name string, add, remove []string, targeted bool) Item {
	it := Item{Kind: "ServiceAccount", Name: name}
	sas := p.s.client.CoreV1().ServiceAccounts(ns)
	for attempt := 0; attempt <= maxConflictRetries; attempt++ {
		sa, err := sas.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && !targeted {
				it.Action = Unchanged
				return it
			}
			it.Action, it.Err = Failed, apiError("get", "serviceaccount", ns, name, err)
			return it
		}
		refs, changed := MergeImagePullSecrets(sa.ImagePullSecrets, add, remove)
		if !changed {
			it.Action = Unchanged
			return it
		}
		sa.ImagePullSecrets = refs
		p.writes.Add(1)
		_, err = sas.Update(ctx, sa, metav1.UpdateOptions{})
		if err == nil {
			it.Action = Patched
			return it
		}
		if !apierrors.IsConflict(err) {
			it.Action, it.Err = Failed, apiError("update", "serviceaccount", ns, name, err)
			return it
		}
	}
	it.Action, it.Err = Failed, fmt.Errorf("update serviceaccount %s/%s: %w: still changing after %d re-reads", ns, name, registry.ErrConflict, maxConflictRetries)
	return it
}

func uniqueSorted(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
