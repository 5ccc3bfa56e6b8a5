package controller

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/dockerconfig/keeper"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

// ErrLostLeadership is Run's error when another replica took the lease: the process
// should exit and be restarted as a follower (kube-controller-manager does the same).
var ErrLostLeadership = errors.New("controller: lost the leader lease")

// EventComponent is the source of the Kubernetes Events the controller records.
const EventComponent = "regcred-controller"

// Reasons of the Events the controller records.
const (
	ReasonSyncFailed     = "PullSecretSyncFailed"
	ReasonSecretConflict = "PullSecretConflict"
)

// Controller keeps the pull Secrets of a Catalog's registries in every selected namespace
// and in the ServiceAccounts there. See the package documentation.
type Controller struct {
	cat     *catalog.Catalog
	client  kubernetes.Interface
	o       *options
	metrics *Metrics
	st      state

	nsInformer, secretInformer, saInformer cache.SharedIndexInformer
	factories                              []informers.SharedInformerFactory
	namespaces                             listerscorev1.NamespaceLister
	secrets                                listerscorev1.SecretLister
	serviceAccounts                        listerscorev1.ServiceAccountLister
	saNames                                map[string]bool
	pods                                   *podWatch // nil with WithPodEvents(false)
	dockerConfig                           *keeper.Keeper

	// What this controller wrote last, by namespace/name, until the informer's cache has
	// caught up (an event for that object): syncs right after a write read these instead
	// of a cache one step behind, and do not write again.
	writtenMu      sync.Mutex
	writtenSecrets map[string]map[string]*corev1.Secret // namespace -> name -> Secret
	writtenSAs     sync.Map                             // "namespace/name" -> *corev1.ServiceAccount

	queue       workqueue.TypedRateLimitingInterface[string]
	broadcaster record.EventBroadcaster
	recorder    record.EventRecorder

	synced    atomic.Bool // the informers' caches are filled
	leading   atomic.Bool
	resolved  atomic.Bool // the credentials were resolved at least once while leading
	failed    atomic.Pointer[error]
	started   atomic.Bool
	wakeup    chan struct{}  // a resolution landed: look at the refresh schedule again
	resolving sync.WaitGroup // resolutions in flight (Add and Wait on lead's goroutine)
}

// New returns a controller for the registries of cat writing through client. It does no
// I/O; Run starts it.
func New(cat *catalog.Catalog, client kubernetes.Interface, opts ...Option) (*Controller, error) {
	if cat == nil || client == nil {
		return nil, fmt.Errorf("controller: %w: a Catalog and a Kubernetes client are required", registry.ErrInvalid)
	}
	o := newOptions(opts)
	c := &Controller{cat: cat, client: client, o: o, wakeup: make(chan struct{}, 1), saNames: map[string]bool{}}
	c.metrics = o.metrics
	if c.metrics == nil {
		c.metrics = NewMetrics()
	}
	for _, n := range o.serviceAccounts {
		c.saNames[n] = true
	}
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "regcred-namespaces"})
	c.metrics.queue(c.queue)

	all := informers.NewSharedInformerFactory(client, o.resync)
	owned := informers.NewSharedInformerFactoryWithOptions(client, o.resync,
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
			lo.LabelSelector = kube.LabelManagedBy + "=" + o.managedBy
		}))
	c.factories = []informers.SharedInformerFactory{all, owned}
	c.nsInformer = all.Core().V1().Namespaces().Informer()
	c.namespaces = all.Core().V1().Namespaces().Lister()
	c.secretInformer = owned.Core().V1().Secrets().Informer()
	c.secrets = owned.Core().V1().Secrets().Lister()
	if len(o.serviceAccounts) > 0 {
		sas := all
		if len(o.serviceAccounts) == 1 {
			// One name (the usual "default"): cache and watch that ServiceAccount of
			// each namespace, not every one in the cluster.
			sas = informers.NewSharedInformerFactoryWithOptions(client, o.resync,
				informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
					lo.FieldSelector = fields.OneTermEqualSelector("metadata.name", o.serviceAccounts[0]).String()
				}))
			c.factories = append(c.factories, sas)
		}
		c.saInformer = sas.Core().V1().ServiceAccounts().Informer()
		c.serviceAccounts = sas.Core().V1().ServiceAccounts().Lister()
	}

	byName := func(obj any) {
		if m, err := metaOf(obj); err == nil {
			c.enqueue(m.GetName())
		}
	}
	byNamespace := func(obj any) {
		if m, err := metaOf(obj); err == nil {
			if c.forgetWritten(m.GetNamespace(), m.GetName(), m.GetResourceVersion()) {
				return // the echo of our own write: the sync that wrote it saw this state
			}
			c.enqueue(m.GetNamespace())
		}
	}
	gone := func(obj any) {
		if m, err := metaOf(obj); err == nil {
			c.forgetWritten(m.GetNamespace(), m.GetName(), "")
			c.enqueue(m.GetNamespace())
		}
	}
	if _, err := c.nsInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: byName, DeleteFunc: byName,
		UpdateFunc: func(_, obj any) { byName(obj) },
	}); err != nil {
		return nil, err
	}
	if _, err := c.secretInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: byNamespace, DeleteFunc: gone,
		UpdateFunc: func(_, obj any) { byNamespace(obj) },
	}); err != nil {
		return nil, err
	}
	if c.saInformer != nil {
		ours := func(obj any, deleted bool) {
			if m, err := metaOf(obj); err == nil && c.saNames[m.GetName()] {
				key := m.GetNamespace() + "/" + m.GetName()
				w, wrote := c.writtenSAs.LoadAndDelete(key)
				if wrote && !deleted && w.(*corev1.ServiceAccount).ResourceVersion == m.GetResourceVersion() {
					return // the echo of our own write
				}
				c.enqueue(m.GetNamespace())
			}
		}
		if _, err := c.saInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { ours(obj, false) },
			DeleteFunc: func(obj any) { ours(obj, true) },
			UpdateFunc: func(_, obj any) { ours(obj, false) },
		}); err != nil {
			return nil, err
		}
	}
	if o.dockerConfig != "" {
		c.dockerConfig = keeper.New(cat, o.dockerConfig, keeper.WithClock(o.clk), keeper.WithLogger(o.logger))
	}
	if err := c.watchConsumers(); err != nil {
		return nil, err
	}
	if err := c.watchPods(client); err != nil {
		return nil, err
	}
	c.broadcaster = record.NewBroadcaster()
	c.recorder = c.broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: EventComponent})
	return c, nil
}

func metaOf(obj any) (metav1.Object, error) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("not an object: %T", obj)
	}
	return m, nil
}

// enqueue asks for namespace ns to be reconciled; only the leader's workers act on it.
func (c *Controller) enqueue(ns string) {
	if ns == "" || !c.leading.Load() {
		return
	}
	c.queue.Add(ns)
}

// enqueueAll asks for every known namespace to be reconciled.
func (c *Controller) enqueueAll() {
	nss, err := c.namespaces.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ns := range nss {
		c.queue.Add(ns.Name)
	}
}

// Run starts the informers, waits for their caches and, when this replica leads (always,
// without WithLeaderElection), reconciles until ctx is done. It returns nil when ctx ends,
// ErrLostLeadership when the lease was lost, or what kept it from starting. Call it once.
func (c *Controller) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return fmt.Errorf("controller: %w: Run was already called", registry.ErrInvalid)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: c.client.CoreV1().Events("")})
	defer c.broadcaster.Shutdown()
	defer c.queue.ShutDown()
	if c.dockerConfig != nil { // on every replica: the file is this host's
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = c.dockerConfig.Run(ctx)
		}()
		defer func() {
			cancel()
			<-done
		}()
	}
	for _, f := range c.factories {
		f.Start(ctx.Done())
	}
	defer func() {
		cancel()
		for _, f := range c.factories {
			f.Shutdown()
		}
	}()
	syncs := []cache.InformerSynced{c.nsInformer.HasSynced, c.secretInformer.HasSynced}
	if c.saInformer != nil {
		syncs = append(syncs, c.saInformer.HasSynced)
	}
	if !waitForCacheSync(ctx, syncs...) {
		if ctx.Err() != nil {
			return nil
		}
		return c.fail(fmt.Errorf("controller: informer caches did not sync"))
	}
	c.synced.Store(true)
	switch {
	case c.o.leader != nil:
		return c.elect(ctx)
	case c.o.elector != nil:
		return c.electWith(ctx, c.o.elector)
	}
	return c.lead(ctx)
}

// cacheSyncPoll is how often waitForCacheSync looks at the informers. client-go's
// cache.WaitForCacheSync looks every 100 ms, which is most of a start over a thousand
// namespaces (their lists take tens of milliseconds): the initial sync would wait for
// nothing.
const cacheSyncPoll = 5 * time.Millisecond

// waitForCacheSync waits until every informer has synced, or ctx ends (false).
func waitForCacheSync(ctx context.Context, syncs ...cache.InformerSynced) bool {
	err := wait.PollUntilContextCancel(ctx, cacheSyncPoll, true, func(context.Context) (bool, error) {
		for _, synced := range syncs {
			if !synced() {
				return false, nil
			}
		}
		return true, nil
	})
	return err == nil
}

func (c *Controller) fail(err error) error {
	c.failed.Store(&err)
	return err
}

// lead reconciles while ctx lasts: it lists the registries once and resolves each on its
// own, follows the Catalog's events (each event's record is resolved alone: no new
// listing, no full-record read), wakes when credentials fall due, and runs the workers.
func (c *Controller) lead(ctx context.Context) error {
	events := c.cat.Subscribe(ctx) // before the listing: no change is missed
	ctx, cancel := context.WithCancel(ctx)
	c.leading.Store(true)
	c.metrics.leader.Set(1)
	defer func() {
		c.leading.Store(false)
		c.metrics.leader.Set(0)
		cancel()
		c.resolving.Wait()
	}()
	lastList := c.o.clk.Now()
	if err := c.relist(ctx, true); err == nil {
		c.noteResolved() // nothing saved: nothing to wait for
		if c.resolved.Load() {
			c.enqueueAll() // prune what deleted registries left
		}
	}

	var workers sync.WaitGroup
	for range c.o.workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for c.processNext(ctx) {
			}
		}()
	}
	defer func() {
		c.queue.ShutDown()
		workers.Wait()
	}()
	for _, task := range c.o.leaderTasks {
		workers.Add(1)
		go func() {
			defer workers.Done()
			if err := task(ctx); err != nil && ctx.Err() == nil {
				c.o.logger.Warn("controller: leader task failed", "error", err)
			}
		}()
	}

	timer := c.o.clk.NewTimer(c.untilRefresh())
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil // the Catalog was closed: keep serving what is known
				continue
			}
			switch ev.Op {
			case catalog.EventDelete:
				c.forget(ev.ID)
			case catalog.EventResync:
				_ = c.relist(ctx, false)
				lastList = c.o.clk.Now()
			default:
				c.track(ctx, ev.Registry, false)
			}
		case <-c.wakeup:
		case <-timer.C():
			now := c.o.clk.Now()
			if now.Sub(lastList) >= c.o.resync {
				_ = c.relist(ctx, false) // a safety net, as the informers' resync
				lastList = now
			}
			c.refreshDue(ctx, now)
		}
		timer.Reset(c.untilRefresh())
	}
}

// wake makes lead look at the refresh schedule again (a resolution landed).
func (c *Controller) wake() {
	select {
	case c.wakeup <- struct{}{}:
	default:
	}
}

// untilRefresh is the wait before the next scheduled resolution: until the earliest
// credentials are due, else the resync period.
func (c *Controller) untilRefresh() time.Duration {
	next := c.nextRefresh()
	if next.IsZero() {
		return c.o.resync
	}
	d := next.Sub(c.o.clk.Now())
	if d < time.Second {
		d = time.Second
	}
	if d > c.o.resync {
		d = c.o.resync
	}
	return d
}

func (c *Controller) processNext(ctx context.Context) bool {
	ns, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(ns)
	start := time.Now()
	err := c.sync(ctx, ns)
	c.metrics.syncDuration.Observe(time.Since(start).Seconds())
	if err == nil {
		c.metrics.syncs.WithLabelValues("success").Inc()
		c.queue.Forget(ns)
		return true
	}
	c.metrics.syncs.WithLabelValues("error").Inc()
	if ctx.Err() != nil {
		return true
	}
	c.o.logger.Warn("controller: namespace sync failed; retrying with back-off", "namespace", ns, "error", err, "retries", c.queue.NumRequeues(ns))
	c.queue.AddRateLimited(ns)
	return true
}

// failure is a namespace sync error that is worth an Event and a retry.
type failure struct {
	reason string
	err    error
}

// sync converges one namespace: the Secrets of the registries that target it exist and
// are current, owned Secrets nobody wants are pruned, and the ServiceAccounts list the
// Secrets. It reads desired state from the resolved registries and the informers' caches
// and writes only what differs.
func (c *Controller) sync(ctx context.Context, name string) error {
	ns, err := c.namespaces.Get(name)
	if apierrors.IsNotFound(err) {
		return nil // gone: its content goes with it
	}
	if err != nil {
		return err
	}
	if ns.DeletionTimestamp != nil || ns.Status.Phase == corev1.NamespaceTerminating {
		return nil // terminating: writes are refused and everything in it is going away
	}
	selected := c.o.selector.Matches(labels.Set(ns.Labels))
	owned, err := c.secrets.Secrets(name).List(labels.Everything())
	if err != nil {
		return err
	}
	if !selected && len(owned) == 0 {
		return nil
	}
	cur := make(map[string]*corev1.Secret, len(owned))
	for _, s := range owned {
		cur[s.Name] = s
	}
	c.writtenMu.Lock()
	for n, s := range c.writtenSecrets[name] {
		cur[n] = s
	}
	c.writtenMu.Unlock()

	var fails []failure
	present := map[string]bool{}
	wanted := map[string]bool{}
	if selected {
		for _, d := range c.st.snapshot() {
			if !c.o.target(d.reg, ns) {
				continue
			}
			if d.keeps() {
				wanted[d.name] = true // keep what is there, untouched
				if cur[d.name] != nil {
					present[d.name] = true
				}
				continue
			}
			if d.template == nil {
				continue // public: no Secret
			}
			wanted[d.name] = true
			written, err := c.applySecret(ctx, ns, d, cur[d.name])
			if !written {
				// A change of the record retired these credentials: keep what is there;
				// the change brings its own resolution and sync.
				if cur[d.name] != nil {
					present[d.name] = true
				}
				continue
			}
			if err != nil {
				fails = append(fails, failure{ReasonSyncFailed, err})
				var ce *kube.ConflictError
				if errors.As(err, &ce) {
					fails[len(fails)-1].reason = ReasonSecretConflict
				}
				continue
			}
			present[d.name] = true
		}
	}
	var pruned []string
	if c.o.prune {
		for _, s := range owned {
			if wanted[s.Name] {
				continue
			}
			if err := c.deleteSecret(ctx, s); err != nil {
				fails = append(fails, failure{ReasonSyncFailed, err})
				continue
			}
			pruned = append(pruned, s.Name)
		}
	}
	if selected || len(pruned) > 0 {
		for sa := range c.saNames {
			if err := c.patchServiceAccount(ctx, name, sa, present, pruned); err != nil {
				fails = append(fails, failure{ReasonSyncFailed, err})
			}
		}
	}
	if len(fails) == 0 {
		return nil
	}
	errs := make([]error, 0, len(fails))
	retry := false
	for _, f := range fails {
		errs = append(errs, f.err)
		if errors.Is(f.err, registry.ErrConflict) && f.reason != ReasonSecretConflict {
			// A write from a cache a step behind: the retry reads the newer object. Not
			// worth an Event.
			c.metrics.failures.WithLabelValues("stale").Inc()
			retry = true
			continue
		}
		c.metrics.failures.WithLabelValues(f.reason).Inc()
		c.recorder.Event(ns, corev1.EventTypeWarning, f.reason, boundedMessage(f.err))
		if f.reason != ReasonSecretConflict {
			retry = true
		}
	}
	if !retry {
		c.o.logger.Warn("controller: namespace left with a conflict", "namespace", name, "error", errors.Join(errs...))
		return nil // someone else's Secret: retrying cannot help; a resync looks again
	}
	return errors.Join(errs...)
}

// boundedMessage is an Event message: Events carry at most 1 kB of text.
func boundedMessage(err error) string {
	s := err.Error()
	if len(s) > 1000 {
		s = s[:1000] + "..."
	}
	return s
}

// writeTimeout bounds one write of a Secret: a write holds the Catalog's fence on the
// credentials it carries (Catalog.Use), which a Delete or Update of the record waits for.
const writeTimeout = 30 * time.Second

// applySecret creates d's Secret in ns or updates the owned one in place (kube.ApplySecret,
// the Syncer's own), inside the Catalog's fence on d's credentials: after a Delete or
// Update of the record has returned, nothing writes them. It reports false, and writes
// nothing, when the record changed since d was resolved.
func (c *Controller) applySecret(ctx context.Context, ns *corev1.Namespace, d *desiredSecret, cur *corev1.Secret) (bool, error) {
	want := d.template.DeepCopy()
	want.Namespace = ns.Name
	if cur != nil && kube.SecretCurrent(cur, want) {
		return true, nil // the common case: no fence, no write
	}
	release, ok := c.cat.Use(d.reg.ID, d.p)
	if !ok {
		c.metrics.failures.WithLabelValues("stale_resolution").Inc()
		return false, nil
	}
	defer release()
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	got, act, err := kube.ApplySecret(wctx, c.client.CoreV1().Secrets(ns.Name), cur, want, c.o.managedBy,
		func(verb string) { c.metrics.writes.WithLabelValues("secret", verb).Inc() })
	if err == nil && act != kube.Unchanged {
		c.noteWritten(got)
	}
	return true, err
}

// noteWritten keeps what a write returned until the informer's cache has it.
func (c *Controller) noteWritten(s *corev1.Secret) {
	c.writtenMu.Lock()
	defer c.writtenMu.Unlock()
	if c.writtenSecrets == nil {
		c.writtenSecrets = map[string]map[string]*corev1.Secret{}
	}
	m := c.writtenSecrets[s.Namespace]
	if m == nil {
		m = map[string]*corev1.Secret{}
		c.writtenSecrets[s.Namespace] = m
	}
	m[s.Name] = s
}

// forgetWritten drops a written Secret: the cache has caught up, or it is gone. It
// reports whether the cache now holds exactly what was written (resourceVersion rv).
func (c *Controller) forgetWritten(ns, name, rv string) (echo bool) {
	c.writtenMu.Lock()
	defer c.writtenMu.Unlock()
	if m := c.writtenSecrets[ns]; m != nil {
		if w, ok := m[name]; ok {
			echo = rv != "" && w.ResourceVersion == rv
		}
		delete(m, name)
		if len(m) == 0 {
			delete(c.writtenSecrets, ns)
		}
	}
	return echo
}

// deleteSecret deletes an owned Secret, only the one that was read (UID precondition).
func (c *Controller) deleteSecret(ctx context.Context, s *corev1.Secret) error {
	uid := s.UID
	c.metrics.writes.WithLabelValues("secret", "delete").Inc()
	err := c.client.CoreV1().Secrets(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	c.forgetWritten(s.Namespace, s.Name, "")
	if apierrors.IsNotFound(err) {
		return nil
	}
	return wrapAPI(err, "delete", s.Namespace, s.Name)
}

// patchServiceAccount makes the ServiceAccount list every present Secret and none of the
// pruned ones (nor any other Secret name of a registry that does not target the
// namespace), keeping everyone else's entries in their order. A ServiceAccount that does
// not exist yet is pending: its creation is an event that brings the namespace back.
func (c *Controller) patchServiceAccount(ctx context.Context, ns, name string, present map[string]bool, pruned []string) error {
	sa, err := c.serviceAccounts.ServiceAccounts(ns).Get(name)
	if w, ok := c.writtenSAs.Load(ns + "/" + name); ok {
		sa, err = w.(*corev1.ServiceAccount), nil
	}
	if apierrors.IsNotFound(err) {
		c.metrics.pendingServiceAccounts.Inc()
		return nil
	}
	if err != nil {
		return err
	}
	add := make([]string, 0, len(present))
	for n := range present {
		add = append(add, n)
	}
	sort.Strings(add)
	remove := append([]string{}, pruned...)
	for _, ref := range sa.ImagePullSecrets {
		if !present[ref.Name] && c.st.isOurs(ref.Name) {
			remove = append(remove, ref.Name)
		}
	}
	refs, changed := kube.MergeImagePullSecrets(sa.ImagePullSecrets, add, remove)
	if !changed {
		return nil
	}
	next := sa.DeepCopy()
	next.ImagePullSecrets = refs
	c.metrics.writes.WithLabelValues("serviceaccount", "update").Inc()
	got, err := c.client.CoreV1().ServiceAccounts(ns).Update(ctx, next, metav1.UpdateOptions{})
	if err == nil {
		c.writtenSAs.Store(ns+"/"+name, got)
	}
	return wrapAPI(err, "update", ns, "serviceaccount "+name)
}

// wrapAPI names what failed; a conflict (a stale cache) is retried by the queue.
func wrapAPI(err error, op, ns, name string) error {
	if err == nil {
		return nil
	}
	switch {
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return fmt.Errorf("%s %s/%s: the namespace is terminating (%v)", op, ns, name, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s %s/%s: %w by RBAC: grant the controller %s on it (%v)", op, ns, name, registry.ErrForbidden, op, err)
	case apierrors.IsConflict(err):
		return fmt.Errorf("%s %s/%s: %w: changed concurrently; retrying (%v)", op, ns, name, registry.ErrConflict, err)
	}
	return fmt.Errorf("%s %s/%s: %w", op, ns, name, err)
}

// elect runs the leader election; lead runs while this replica holds the lease.
func (c *Controller) elect(ctx context.Context) error {
	le := c.o.leader.withDefaults()
	var lost atomic.Bool
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var leadErr error
	// The elector starts OnStartedLeading on a goroutine and does not wait for it: Run
	// waits for a lead that started, and one that would start after is skipped.
	var leadMu sync.Mutex
	leadStarted, electionOver := false, false
	leadDone := make(chan struct{})
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            le.Lock,
		LeaseDuration:   le.LeaseDuration,
		RenewDeadline:   le.RenewDeadline,
		RetryPeriod:     le.RetryPeriod,
		ReleaseOnCancel: le.ReleaseOnCancel,
		Name:            EventComponent,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				leadMu.Lock()
				if electionOver {
					leadMu.Unlock()
					return
				}
				leadStarted = true
				leadMu.Unlock()
				defer close(leadDone)
				c.o.logger.Info("controller: leading", "identity", le.Lock.Identity())
				leadErr = c.lead(lctx)
			},
			OnStoppedLeading: func() {
				if ctx.Err() == nil {
					lost.Store(true)
				}
				cancel()
			},
			OnNewLeader: func(id string) {
				c.o.logger.Info("controller: leader", "identity", id)
			},
		},
	})
	if err != nil {
		return c.fail(fmt.Errorf("controller: leader election: %w", err))
	}
	elector.Run(ctx)
	cancel()
	leadMu.Lock()
	electionOver = true
	started := leadStarted
	leadMu.Unlock()
	if started {
		<-leadDone
	}
	if lost.Load() {
		return c.fail(ErrLostLeadership)
	}
	return leadErr
}
