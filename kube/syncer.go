package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
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
// documentation for the rules. A Syncer is safe for concurrent use and keeps no state
// between passes: the providers are its factory's (Catalog.ProviderFactory or
// providers.Shared share one per registry version, so a caching provider's token is reused
// across passes); passes over the same namespaces should not overlap (a Refresher runs them
// one after the other).
type Syncer struct {
	client kubernetes.Interface
	o      *options
}

// NewSyncer returns a Syncer writing through client.
func NewSyncer(client kubernetes.Interface, opts ...Option) *Syncer {
	return &Syncer{client: client, o: newOptions(opts)}
}

// pass is the state of one Sync call.
type pass struct {
	s        *Syncer
	desired  []*desiredSecret
	failed   map[string]error             // secret name -> why its registry's credentials failed
	keep     map[string]bool              // every secret name the registries map to
	scopes   map[string]registry.Scope    // secret name -> the registry's Scope, when it limits anything
	labelled map[string]*corev1.Namespace // the namespaces, read when a Scope names teams or projects
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
	if err := p.resolve(ctx, regs); err != nil {
		return nil, err
	}
	if err := p.list(ctx); err != nil {
		return nil, err
	}
	if err := p.readNamespaces(ctx); err != nil {
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
		res.ExpiresAt = earliest(res.ExpiresAt, d.expires)
		res.RefreshAt = earliest(res.RefreshAt, d.refresh)
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
		if !r.Scope.IsZero() {
			if p.scopes == nil {
				p.scopes = map[string]registry.Scope{}
			}
			p.scopes[name] = r.Scope
		}
	}
	out := make([]*desiredSecret, len(regs))
	errs := make([]error, len(regs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.concurrency)
	for i, r := range regs {
		g.Go(func() error {
			prov, err := o.factory(r)
			if err == nil {
				out[i], err = o.desired(gctx, r, prov)
			}
			if err != nil {
				errs[i] = err
				o.logger.Warn("kube: credentials failed; keeping existing secrets", "registry", r.Name, "error", err)
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

// readNamespaces reads the namespaces' labels when a registry's Scope names teams or
// projects (WithScopeLabels maps them to namespace labels). Without them such a registry
// could not be placed: the pass stops rather than prune its Secrets.
func (p *pass) readNamespaces(ctx context.Context) error {
	need := false
	for _, sc := range p.scopes {
		need = need || needsLabels(sc)
	}
	if !need {
		return nil
	}
	list, err := p.s.client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &registry.Error{Op: "sync", Err: fmt.Errorf("a registry is scoped to teams or projects, which map to namespace labels: %w", apiError("list", "namespaces", "", "", err))}
	}
	p.labelled = make(map[string]*corev1.Namespace, len(list.Items))
	for i := range list.Items {
		p.labelled[list.Items[i].Name] = &list.Items[i]
	}
	return nil
}

// inScope reports whether the registry behind secret name may be used in namespace ns:
// ScopeLabels.Allows with its Scope (the namespace's name, and its team and project
// labels per WithScopeLabels). A registry scoped out of a namespace gets no Secret there,
// and with pruning its old one is deleted.
func (p *pass) inScope(name, ns string) bool {
	sc, ok := p.scopes[name]
	if !ok {
		return true
	}
	obj := p.labelled[ns]
	if obj == nil {
		obj = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	}
	return p.s.o.scopeLabels.Allows(sc, obj)
}

// apply creates or updates one Secret (ApplySecret). cur is the owned Secret the list
// found, or nil.
func (p *pass) apply(ctx context.Context, ns string, d *desiredSecret, cur *corev1.Secret) Item {
	it := Item{Kind: "Secret", Name: d.name, Registry: d.reg.Name}
	_, it.Action, it.Err = ApplySecret(ctx, p.s.client.CoreV1().Secrets(ns), cur, d.secret(ns, p.s.o), p.s.o.managedBy,
		func(string) { p.writes.Add(1) })
	return it
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

// earliest returns the earlier of a and b, ignoring zero times.
func earliest(a, b time.Time) time.Time {
	if b.IsZero() || (!a.IsZero() && a.Before(b)) {
		return a
	}
	return b
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
