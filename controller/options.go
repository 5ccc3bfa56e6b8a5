package controller

import (
	"context"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

// Defaults.
const (
	// DefaultWorkers is how many namespaces are reconciled at once unless WithWorkers says
	// otherwise (the kube Syncer's DefaultConcurrency: on a small API server the writes are
	// the limit, not the workers).
	DefaultWorkers = kube.DefaultConcurrency
	// DefaultResync is how often the informers replay every object, so a missed event is
	// repaired even without one (client-go's own safety net).
	DefaultResync = 10 * time.Minute
)

// Option configures New.
type Option func(*options)

// TargetFunc decides whether registry r gets a pull Secret in namespace ns (which already
// matches the namespace selector). r is the redacted record.
type TargetFunc func(r registry.Registry, ns *corev1.Namespace) bool

type options struct {
	selector        labels.Selector
	serviceAccounts []string
	managedBy       string
	secretName      func(registry.Registry) string
	workers         int
	resync          time.Duration
	prune           bool
	target          TargetFunc
	clk             clock.Clock
	logger          *slog.Logger
	metrics         *Metrics
	leader          *LeaderElection
	kubeOpts        []kube.Option
	leaderTasks     []func(context.Context) error
	elector         Elector
	noPodEvents     bool
	dockerConfig    string
	scopeLabels     kube.ScopeLabels
}

func newOptions(opts []Option) *options {
	o := &options{
		selector:        labels.Everything(),
		serviceAccounts: nil,
		managedBy:       kube.DefaultManagedBy,
		secretName:      kube.DefaultSecretName,
		workers:         DefaultWorkers,
		resync:          DefaultResync,
		prune:           true,
		clk:             clock.Real{},
		logger:          slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		opt(o)
	}
	if o.serviceAccounts == nil {
		o.serviceAccounts = []string{"default"}
	}
	if o.target == nil {
		l := o.scopeLabels
		o.target = func(r registry.Registry, ns *corev1.Namespace) bool { return l.Allows(r.Scope, ns) }
	}
	return o
}

// ScopeTargets is the default TargetFunc without WithScopeLabels: a registry goes to the
// namespaces its whole Scope allows (kube.ScopeLabels.Allows, the Syncer's rule) with no
// namespace label mapped to a team or a project, so a registry scoped to teams or projects
// goes nowhere (it fails closed) and one scoped to namespace patterns goes where they
// match (every selected namespace when its Scope is empty).
func ScopeTargets(r registry.Registry, ns *corev1.Namespace) bool {
	return kube.ScopeLabels{}.Allows(r.Scope, ns)
}

// WithScopeLabels sets the namespace labels that carry a namespace's team and project
// (kube.ScopeLabels), so a registry scoped to teams or projects gets its pull Secret only
// in their namespaces. Read kube.ScopeLabels for the risk: whoever may label a namespace
// may claim a team. Ignored when WithTargets is given.
func WithScopeLabels(l kube.ScopeLabels) Option { return func(o *options) { o.scopeLabels = l } }

// WithNamespaceSelector limits the namespaces that get pull Secrets to those whose labels
// match sel (default: every namespace). Owned Secrets in namespaces that stop matching are
// pruned.
func WithNamespaceSelector(sel labels.Selector) Option {
	return func(o *options) {
		if sel != nil {
			o.selector = sel
		}
	}
}

// WithTargets sets which registries go to which selected namespace (default: the
// registry's Scope, with the labels of WithScopeLabels; ScopeTargets without them).
func WithTargets(f TargetFunc) Option {
	return func(o *options) {
		if f != nil {
			o.target = f
		}
	}
}

// WithServiceAccounts sets the ServiceAccounts whose imagePullSecrets list the Secrets in
// every target namespace (default "default"). Pass none to patch no ServiceAccount.
func WithServiceAccounts(names ...string) Option {
	return func(o *options) { o.serviceAccounts = append([]string{}, names...) }
}

// WithManagedBy sets the managed-by label value of the Secrets the controller owns
// (default "regcred"); it never touches Secrets with another value.
func WithManagedBy(v string) Option {
	return func(o *options) {
		if v != "" {
			o.managedBy = v
		}
	}
}

// WithSecretName sets the Secret name of a registry (default kube.DefaultSecretName).
func WithSecretName(f func(registry.Registry) string) Option {
	return func(o *options) {
		if f != nil {
			o.secretName = f
		}
	}
}

// WithWorkers sets how many namespaces are reconciled at once (default DefaultWorkers).
func WithWorkers(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.workers = n
		}
	}
}

// WithResync sets the informers' resync period (default DefaultResync).
func WithResync(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.resync = d
		}
	}
}

// WithPrune turns pruning on or off (default on): owned Secrets of deleted registries, of
// registries no longer targeting a namespace, and in namespaces no longer selected, are
// deleted and dropped from the ServiceAccounts.
func WithPrune(prune bool) Option { return func(o *options) { o.prune = prune } }

// WithClock sets the clock that schedules credential refreshes (default clock.Real{}).
func WithClock(c clock.Clock) Option {
	return func(o *options) {
		if c != nil {
			o.clk = c
		}
	}
}

// WithLogger sets the logger (default: discard). The controller never prints.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithMetrics makes the controller count into m (NewMetrics), for a process that serves
// its own Prometheus registry. By default each controller has its own Metrics, served by
// Handler at /metrics.
func WithMetrics(m *Metrics) Option {
	return func(o *options) {
		if m != nil {
			o.metrics = m
		}
	}
}

// WithLeaderElection makes Run act only while this replica holds the lease (see
// LeaderElection); followers keep their caches warm and take over when the leader dies.
func WithLeaderElection(le LeaderElection) Option {
	return func(o *options) { o.leader = &le }
}

// WithKubeOptions passes options to kube.Build for the Secrets' content
// (kube.WithDockerConfigOptions for wildcard registries).
func WithKubeOptions(opts ...kube.Option) Option {
	return func(o *options) { o.kubeOpts = append(o.kubeOpts, opts...) }
}

// WithLeaderTasks runs each task beside the Kubernetes loop while this replica leads (with
// WithLeaderElection, only then), with a context that ends when leadership or Run ends:
// swarm.Reauth.Run, for one replica to re-auth the services. A task's error is logged.
func WithLeaderTasks(tasks ...func(context.Context) error) Option {
	return func(o *options) { o.leaderTasks = append(o.leaderTasks, tasks...) }
}

// WithDockerConfig makes Run keep the docker config file at path fresh too, on every
// replica (keeper.Keeper), on the controller's clock and logger.
func WithDockerConfig(path string) Option {
	return func(o *options) { o.dockerConfig = path }
}
