package tokensecret

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/providers/kubesa"
	"github.com/regcred/regcred/registry"
)

// EventComponent is the source of the Events the reconciler records.
const EventComponent = "regcred-tokensecret"

// The reasons of its Events.
const (
	ReasonFilled            = "TokenSecretFilled"
	ReasonRefreshed         = "TokenSecretRefreshed"
	ReasonNotAllowed        = "ServiceAccountNotAllowed"
	ReasonNoServiceAccount  = "ServiceAccountNotFound"
	ReasonNoRegistry        = "TokenRegistryNotFound"
	ReasonTokenFailed       = "TokenRequestFailed"
	ReasonConflictingConfig = "ConflictingAnnotations"
)

// Registries lists the saved registries; *catalog.Catalog is one. Only Kubernetes-token
// records (registry.KindKubernetes) are used: their host, audience and expirationSeconds.
type Registries interface {
	List(ctx context.Context) ([]registry.Registry, error)
}

// Policy decides whether the reconciler may use a ServiceAccount of the Secret's namespace;
// its error is the reason the Event gives. The default allows every ServiceAccount of the
// Secret's own namespace (whoever may create a Secret there may already have a token
// Secret of any of them minted by Kubernetes).
type Policy func(ctx context.Context, sa *corev1.ServiceAccount) error

// Option configures New.
type Option func(*Reconciler)

// WithClock sets the clock refreshes are scheduled on (default the real one).
func WithClock(c clock.Clock) Option { return func(r *Reconciler) { r.clk = clock.Or(c) } }

// WithLogger logs what the reconciler does (never a token).
func WithLogger(l *slog.Logger) Option { return func(r *Reconciler) { r.log = l } }

// WithNamespace serves the Secrets of one namespace only (default: every namespace).
func WithNamespace(ns string) Option { return func(r *Reconciler) { r.namespace = ns } }

// WithPolicy sets the ServiceAccount policy (default: any of the Secret's own namespace).
func WithPolicy(p Policy) Option { return func(r *Reconciler) { r.policy = p } }

// WithWorkers sets how many Secrets are reconciled at once (default 2).
func WithWorkers(n int) Option { return func(r *Reconciler) { r.workers = max(1, n) } }

// Reconciler fills and refreshes the annotated pull Secrets. Build it with New; Run it.
type Reconciler struct {
	client    kubernetes.Interface
	regs      Registries
	clk       clock.Clock
	log       *slog.Logger
	namespace string
	policy    Policy
	workers   int

	recorder record.EventRecorder
	queue    workqueue.TypedRateLimitingInterface[string]
	lister   listerscorev1.SecretLister

	mu   sync.Mutex
	due  map[string]time.Time // Secret key -> when its token is refreshed
	wake chan struct{}
}

// New returns a reconciler that writes with client and finds registries in regs.
func New(client kubernetes.Interface, regs Registries, opts ...Option) *Reconciler {
	r := &Reconciler{client: client, regs: regs, clk: clock.Real{}, log: slog.New(slog.DiscardHandler), workers: 2,
		policy: func(context.Context, *corev1.ServiceAccount) error { return nil },
		due:    map[string]time.Time{}, wake: make(chan struct{}, 1)}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Run watches the kubernetes.io/dockerconfigjson Secrets and reconciles the annotated ones
// until ctx ends.
func (r *Reconciler) Run(ctx context.Context) error {
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: r.client.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	r.recorder = broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: EventComponent})

	r.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Second, 5*time.Minute),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "tokensecret"})
	defer r.queue.ShutDown()

	factory := informers.NewSharedInformerFactoryWithOptions(r.client, 0, informers.WithNamespace(r.namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("type", string(corev1.SecretTypeDockerConfigJson)).String()
		}))
	inf := factory.Core().V1().Secrets()
	r.lister = inf.Lister()
	enqueue := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		s, ok := obj.(*corev1.Secret)
		if !ok || !Annotated(s.Annotations) {
			return
		}
		r.queue.Add(s.Namespace + "/" + s.Name)
	}
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced) {
		return ctx.Err()
	}
	var wg sync.WaitGroup
	for range r.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r.work(ctx) {
			}
		}()
	}
	r.schedule(ctx)
	r.queue.ShutDown()
	wg.Wait()
	return ctx.Err()
}

// schedule enqueues each Secret when its refresh is due, on the reconciler's clock.
func (r *Reconciler) schedule(ctx context.Context) {
	t := r.clk.NewTimer(time.Hour)
	defer t.Stop()
	for {
		now := r.clk.Now()
		next := now.Add(time.Hour)
		r.mu.Lock()
		for key, at := range r.due {
			if !at.After(now) {
				delete(r.due, key)
				r.queue.Add(key)
			} else if at.Before(next) {
				next = at
			}
		}
		r.mu.Unlock()
		t.Reset(next.Sub(now))
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		case <-r.wake:
		}
	}
}

func (r *Reconciler) setDue(key string, at time.Time) {
	r.mu.Lock()
	r.due[key] = at
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Reconciler) work(ctx context.Context) bool {
	key, quit := r.queue.Get()
	if quit {
		return false
	}
	defer r.queue.Done(key)
	if err := r.sync(ctx, key); err != nil {
		r.log.Warn("tokensecret: retrying", "secret", key, "err", err)
		r.queue.AddRateLimited(key)
		return true
	}
	r.queue.Forget(key)
	return true
}

var dnsSubdomainRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// sync reconciles one Secret. A nil error with nothing written is a decision (the Event
// says why); an error is retried with backoff.
func (r *Reconciler) sync(ctx context.Context, key string) error {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	s, err := r.lister.Secrets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		r.mu.Lock()
		delete(r.due, key)
		r.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	if !Annotated(s.Annotations) {
		return nil
	}
	fam, saName, conflict := familyOf(s.Annotations)
	if conflict {
		r.warn(s, ReasonConflictingConfig, fmt.Sprintf("%s and %s name different ServiceAccounts: keep one", ours.name, docs.name))
		return nil
	}
	if saName == "" || len(saName) > 253 || !dnsSubdomainRE.MatchString(saName) {
		r.warn(s, ReasonNotAllowed, fmt.Sprintf("%s names %s, which is not the name of a ServiceAccount of namespace %s: only the Secret's own namespace's ServiceAccounts may be named (a name, no namespace/)",
			fam.name, strconv.Quote(untrusted.Limit(saName, 64)), ns))
		return nil
	}
	sa, err := r.client.CoreV1().ServiceAccounts(ns).Get(ctx, saName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		r.warn(s, ReasonNoServiceAccount, fmt.Sprintf("ServiceAccount %s/%s does not exist: create it (kubectl create serviceaccount %s -n %s); the Secret is filled once it does", ns, saName, saName, ns))
		return err
	}
	if err != nil {
		return err
	}
	if err := r.policy(ctx, sa); err != nil {
		r.warn(s, ReasonNotAllowed, fmt.Sprintf("ServiceAccount %s/%s may not be used: %v", ns, saName, err))
		return nil
	}
	reg, why, err := r.registry(ctx, s)
	if err != nil {
		return err
	}
	if why != "" {
		r.warn(s, ReasonNoRegistry, why)
		return nil
	}
	lifetime := lifetimeOf(reg)
	now := r.clk.Now()
	if exp, ok := current(s, fam, sa.UID); ok {
		if at := exp.Add(-lifetime / 5); now.Before(at) {
			r.setDue(key, at)
			return nil
		}
	}

	// The token is for the registry only: the record's audience, else the registry's host,
	// never the API server's (whoever reads the Secret must not get an API identity).
	audience := reg.Fields["audience"]
	if audience == "" {
		audience = reg.Host()
	}
	opts := []kubesa.Option{kubesa.WithName(reg.Name), kubesa.WithLifetime(lifetime), kubesa.WithAudiences(audience)}
	p, err := kubesa.New(r.client, ns, sa.Name, opts...)
	if err != nil {
		r.warn(s, ReasonTokenFailed, err.Error())
		return nil
	}
	creds, err := p.Credentials(ctx)
	if err != nil { // the Secret keeps what it has: a working token stays until it expires
		r.warn(s, ReasonTokenFailed, err.Error())
		return err
	}
	cfg := dockerconfig.New()
	cfg.Set(reg.Host(), creds)
	data, err := cfg.Marshal()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	out := s.DeepCopy()
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	out.Annotations[fam.uid] = string(sa.UID)
	out.Annotations[fam.expiresAt] = creds.ExpiresAt.UTC().Format(time.RFC3339)
	out.Annotations[fam.hash] = hex.EncodeToString(sum[:])
	out.Data = map[string][]byte{corev1.DockerConfigJsonKey: data}
	out.OwnerReferences = ownedBy(out.OwnerReferences, sa)
	if _, err := r.client.CoreV1().Secrets(ns).Update(ctx, out, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update secret %s: %w", key, err)
	}
	reason, verb := ReasonFilled, "filled"
	if s.Annotations[fam.hash] != "" {
		reason, verb = ReasonRefreshed, "refreshed"
	}
	r.recorder.Eventf(s, corev1.EventTypeNormal, reason, "%s with a token of ServiceAccount %s for %s, valid until %s",
		verb, sa.Name, reg.Host(), creds.ExpiresAt.UTC().Format(time.RFC3339))
	r.log.Info("tokensecret: "+verb, "secret", key, "serviceaccount", sa.Name, "registry", reg.Host(), "expires", creds.ExpiresAt)
	life := creds.ExpiresAt.Sub(now) // the token's real life: the API server may shorten it
	r.setDue(key, now.Add(life*4/5))
	return nil
}

// current reports whether the Secret holds what the reconciler wrote for the ServiceAccount
// (same UID, the hash of its data) and when that expires.
func current(s *corev1.Secret, fam family, uid types.UID) (time.Time, bool) {
	a := s.Annotations
	if a[fam.uid] != string(uid) || a[fam.hash] == "" {
		return time.Time{}, false
	}
	sum := sha256.Sum256(s.Data[corev1.DockerConfigJsonKey])
	if a[fam.hash] != hex.EncodeToString(sum[:]) {
		return time.Time{}, false
	}
	exp, err := time.Parse(time.RFC3339, a[fam.expiresAt])
	return exp, err == nil
}

// ownedBy returns refs with the ServiceAccount as an owner (and any owner reference to an
// earlier ServiceAccount of that name, of another UID, dropped).
func ownedBy(refs []metav1.OwnerReference, sa *corev1.ServiceAccount) []metav1.OwnerReference {
	out := make([]metav1.OwnerReference, 0, len(refs)+1)
	for _, ref := range refs {
		if ref.APIVersion == "v1" && ref.Kind == "ServiceAccount" {
			continue
		}
		out = append(out, ref)
	}
	return append(out, metav1.OwnerReference{APIVersion: "v1", Kind: "ServiceAccount", Name: sa.Name, UID: sa.UID})
}

// lifetimeOf is the token lifetime a record asks for (expirationSeconds, default 24 h).
func lifetimeOf(r registry.Registry) time.Duration {
	if n, err := strconv.ParseInt(r.Fields["expirationSeconds"], 10, 64); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return kubesa.DefaultLifetime
}

// registry finds the Kubernetes-token record the Secret's token is for: the one
// AnnotationRegistry names (host, ID or name), else the only one, else the default one.
// why is the reason none fits, for the Event.
func (r *Reconciler) registry(ctx context.Context, s *corev1.Secret) (registry.Registry, string, error) {
	all, err := r.regs.List(ctx)
	if err != nil {
		return registry.Registry{}, "", fmt.Errorf("list registries: %w", err)
	}
	var tokens []registry.Registry
	for _, x := range all {
		if x.Kind == registry.KindKubernetes {
			tokens = append(tokens, x)
		}
	}
	if want, ok := s.Annotations[AnnotationRegistry]; ok {
		host := strings.ToLower(want)
		if srv, err := registry.ParseServer(want); err == nil {
			host = registry.CanonicalHost(srv.Host)
		}
		for _, x := range tokens {
			if x.ID == want || x.Name == want || registry.CanonicalHost(x.Host()) == host {
				return x, "", nil
			}
		}
		return registry.Registry{}, fmt.Sprintf("%s names %s, which is no Kubernetes-token registry", AnnotationRegistry, strconv.Quote(untrusted.Limit(want, 64))), nil
	}
	switch len(tokens) {
	case 0:
		return registry.Registry{}, "no Kubernetes-token registry is saved: add one (type Kubernetes) for the registry these tokens are for", nil
	case 1:
		return tokens[0], "", nil
	}
	for _, x := range tokens {
		if x.Default {
			return x, "", nil
		}
	}
	return registry.Registry{}, fmt.Sprintf("%d Kubernetes-token registries are saved: name one with the annotation %s (its host)", len(tokens), AnnotationRegistry), nil
}

// warn records a Warning Event on the Secret and logs it.
func (r *Reconciler) warn(s *corev1.Secret, reason, msg string) {
	r.recorder.Event(s, corev1.EventTypeWarning, reason, msg)
	r.log.Warn("tokensecret: "+msg, "secret", s.Namespace+"/"+s.Name, "reason", reason)
}
