package kube

import (
	"log/slog"
	"time"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/registry"
)

// DefaultConcurrency is how many API writes a Syncer has in flight at once unless
// WithConcurrency says otherwise.
const DefaultConcurrency = 16

// Option configures Build, BuildCombined and NewSyncer.
type Option func(*options)

type options struct {
	factory         registry.ProviderFactory
	secretName      func(registry.Registry) string
	managedBy       string
	concurrency     int
	serviceAccounts []string
	prune           bool
	logger          *slog.Logger
	configOpts      []dockerconfig.Option
	now             func() time.Time
	scopeLabels     ScopeLabels
}

func newOptions(opts []Option) *options {
	o := &options{
		factory:     registry.StaticFactory,
		secretName:  DefaultSecretName,
		managedBy:   DefaultManagedBy,
		concurrency: DefaultConcurrency,
		logger:      slog.New(slog.DiscardHandler),
		now:         time.Now,
	}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// WithProviderFactory sets how a registry becomes its credential provider (default
// registry.StaticFactory; pass providers.For for token kinds). A Syncer makes one provider
// per registry ID and version and keeps it, so a caching provider's token is reused across
// passes and a steady state writes nothing.
func WithProviderFactory(f registry.ProviderFactory) Option {
	return func(o *options) {
		if f != nil {
			o.factory = f
		}
	}
}

// WithSecretName sets the Secret name of a registry (default DefaultSecretName,
// "registry-secret-{id}"). The name must be a valid Secret name and stable for a registry.
func WithSecretName(f func(registry.Registry) string) Option {
	return func(o *options) {
		if f != nil {
			o.secretName = f
		}
	}
}

// WithManagedBy sets the value of the managed-by label (default "regcred"). Two platforms
// syncing the same cluster with different values never touch each other's Secrets.
func WithManagedBy(v string) Option {
	return func(o *options) {
		if v != "" {
			o.managedBy = v
		}
	}
}

// WithConcurrency bounds the API requests a Syncer has in flight (default 16).
func WithConcurrency(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.concurrency = n
		}
	}
}

// WithServiceAccounts makes a Syncer add its Secrets to the imagePullSecrets of these
// ServiceAccounts in every target namespace ("default" for pods that name none), keeping
// the entries others put there.
func WithServiceAccounts(names ...string) Option {
	return func(o *options) { o.serviceAccounts = append(o.serviceAccounts, names...) }
}

// WithPrune makes a Syncer delete the Secrets it owns whose registry is no longer given or
// whose namespace is no longer targeted (and drop them from the ServiceAccounts it patches).
func WithPrune(prune bool) Option { return func(o *options) { o.prune = prune } }

// WithLogger sets the logger for what a Syncer does (debug) and what fails (warn). The
// library never prints; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithDockerConfigOptions passes options to dockerconfig.FromRegistries (dockerconfig.WithHost
// for wildcard registries).
func WithDockerConfigOptions(opts ...dockerconfig.Option) Option {
	return func(o *options) { o.configOpts = append(o.configOpts, opts...) }
}

// WithClock sets the clock (default clock.Real{}).
func WithClock(c clock.Clock) Option {
	return func(o *options) {
		if c != nil {
			o.now = c.Now
		}
	}
}

// WithScopeLabels sets the namespace labels that carry a namespace's team and project, so a
// registry scoped to teams or projects gets its Secret only in their namespaces (see
// ScopeLabels, and its risk). Without it such a registry gets no Secret anywhere. The
// Syncer then lists namespaces (RBAC: list namespaces).
func WithScopeLabels(l ScopeLabels) Option { return func(o *options) { o.scopeLabels = l } }
