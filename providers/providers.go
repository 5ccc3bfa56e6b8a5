package providers

import (
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/providers/acr"
	"github.com/regcred/regcred/providers/cache"
	"github.com/regcred/regcred/providers/ecr"
	"github.com/regcred/regcred/providers/google"
	"github.com/regcred/regcred/providers/kubesa"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/transport"
)

// Option configures For and Factory.
type Option func(*options)

type options struct {
	httpClient *http.Client
	kube       kubernetes.Interface
	clock      clock.Clock
	log        *slog.Logger
	googleMode google.Mode
	cacheOpts  []cache.Option
	ecrOpts    []ecr.Option
	acrOpts    []acr.Option
	googleOpts []google.Option
	kubeOpts   []kubesa.Option
}

// WithHTTPClient sets the HTTP client of every token endpoint call (AWS, Azure AD and ACR,
// Google). Default: each provider's own.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithKubeClient sets the Kubernetes client of Kubernetes token registries; For fails for
// such a record without one.
func WithKubeClient(c kubernetes.Interface) Option { return func(o *options) { o.kube = c } }

// WithClock sets the clock of the caches (tests move a clock.Fake instead of sleeping).
func WithClock(c clock.Clock) Option { return func(o *options) { o.clock = c } }

// WithLogger logs refreshes and refresh failures (never secrets).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithGoogleMode chooses how GCR/GAR keys become credentials (default google.AccessToken).
func WithGoogleMode(m google.Mode) Option { return func(o *options) { o.googleMode = m } }

// WithCacheOptions passes options to every cache For creates (share, margin, back-off...).
func WithCacheOptions(opts ...cache.Option) Option {
	return func(o *options) { o.cacheOpts = append(o.cacheOpts, opts...) }
}

// WithECROptions passes options to ECR providers (e.g. ecr.WithEndpoint for tests).
func WithECROptions(opts ...ecr.Option) Option {
	return func(o *options) { o.ecrOpts = append(o.ecrOpts, opts...) }
}

// WithACROptions passes options to ACR providers (e.g. acr.WithAuthorityHost,
// acr.WithExchangeURL for tests).
func WithACROptions(opts ...acr.Option) Option {
	return func(o *options) { o.acrOpts = append(o.acrOpts, opts...) }
}

// WithGoogleOptions passes options to GCR/GAR providers (e.g. google.WithTokenURL).
func WithGoogleOptions(opts ...google.Option) Option {
	return func(o *options) { o.googleOpts = append(o.googleOpts, opts...) }
}

// WithKubeSAOptions passes options to Kubernetes token providers (e.g. kubesa.WithForm).
func WithKubeSAOptions(opts ...kubesa.Option) Option {
	return func(o *options) { o.kubeOpts = append(o.kubeOpts, opts...) }
}

// Cached wraps p in the refreshing cache (cache.New): refreshed early, one refresh in
// flight, the old value served while valid when a refresh fails, never an expired value.
// A provider that is already cached is returned as is. For does this for every token kind.
func Cached(p registry.Provider, opts ...cache.Option) registry.Provider {
	return cache.New(p, opts...)
}

// Factory returns For with opts as a registry.ProviderFactory, for the Keychain and the
// Catalog.
func Factory(opts ...Option) registry.ProviderFactory {
	return func(r registry.Registry) (registry.Provider, error) { return For(r, opts...) }
}

// Shared wraps f so that every call for the same record gets the same provider: one per
// registry (its ID, else its name) and version, made by f on first use and replaced when
// the version changes (for a record without an ID or a version, when its stored content
// changes). A caching provider's token is then reused by every pass of a kube.Syncer or
// Refresher and by each consumer in the process, as the Catalog's own ProviderFactory does
// for saved records. Errors of f are not kept: the next call tries again. Safe for
// concurrent use.
func Shared(f registry.ProviderFactory) registry.ProviderFactory {
	type entry struct {
		version int64
		content [32]byte
		p       registry.Provider
	}
	var mu sync.Mutex
	byKey := map[string]entry{}
	return func(r registry.Registry) (registry.Provider, error) {
		key := r.ID
		if key == "" {
			key = "name:" + r.Name
		}
		e := entry{version: r.Version}
		if r.ID == "" || r.Version == 0 {
			// Not a saved version: its content is its identity (a rotated secret is a new
			// record). A redacted view has no content to tell; f decides what it gets.
			b, err := registry.MarshalStored(r)
			if err != nil || r.IsRedacted() {
				return f(r)
			}
			e.content = sha256.Sum256(b)
		}
		mu.Lock()
		defer mu.Unlock()
		if old, ok := byKey[key]; ok && old.version == e.version && old.content == e.content {
			return old.p, nil
		}
		p, err := f(r)
		if err != nil {
			return nil, err
		}
		e.p = p
		byKey[key] = e
		return p, nil
	}
}

// For validates r and returns its provider: registry.Static for static kinds (Docker Hub,
// GHCR, Quay, Harbor, custom, ACR without a tenant), registry.Anonymous for public, and for
// token kinds the kind's provider wrapped in a refreshing cache (ECR, ACR with a tenant,
// GCR/GAR access tokens, Kubernetes ServiceAccount tokens). No network call is made.
// Errors are *registry.Error{Op: "provider"} wrapping the *registry.FieldError that names
// the field to fix. A redacted view (r.IsRedacted(): what Catalog.Get and List hand out) is
// refused with an error wrapping registry.ErrRedacted: its secrets read "REDACTED".
func For(r registry.Registry, opts ...Option) (registry.Provider, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	fail := func(err error) (registry.Provider, error) {
		return nil, &registry.Error{Op: "provider", Registry: r.Name, Err: err}
	}
	if r.IsRedacted() {
		return fail(fmt.Errorf("%w: pass the full record (the Catalog's full-record read), not a redacted view", registry.ErrRedacted))
	}
	if err := r.Validate(); err != nil {
		return fail(err)
	}
	if c, ok := registry.StaticCredentials(r); ok {
		if c.Anonymous() {
			return registry.Anonymous(), nil
		}
		return registry.Static(c), nil
	}
	p, expiring, err := tokenProvider(r, &o)
	if err != nil {
		return fail(err)
	}
	if !expiring {
		return p, nil
	}
	copts := []cache.Option{cache.WithName(r.Name)}
	if o.clock != nil {
		copts = append(copts, cache.WithClock(o.clock))
	}
	if o.log != nil {
		copts = append(copts, cache.WithLogger(o.log))
	}
	return cache.New(p, append(copts, o.cacheOpts...)...), nil
}

// tokenProvider builds the provider of a token kind and says whether it expires.
func tokenProvider(r registry.Registry, o *options) (registry.Provider, bool, error) {
	f := r.Fields
	switch r.Kind {
	case registry.KindECR:
		p, err := ecrProvider(r, o)
		return p, true, err
	case registry.KindACR:
		opts := []acr.Option{acr.WithTenant(f["tenant"]), acr.WithName(r.Name)}
		switch {
		case o.httpClient != nil:
			opts = append(opts, acr.WithHTTPClient(o.httpClient))
		case r.TLS.EffectiveMode() != registry.TLSSecure:
			// the exchange goes to the registry itself: honour its TLS mode
			tr, err := transport.ForTLS(r.TLS)
			if err != nil {
				return nil, false, err
			}
			opts = append(opts, acr.WithHTTPClient(&http.Client{Transport: tr, Timeout: 30 * time.Second}))
		}
		p, err := acr.New(f["loginServer"], f["username"], registry.Secret(f["password"]), append(opts, o.acrOpts...)...)
		return p, true, err
	case registry.KindGCR, registry.KindGAR:
		opts := []google.Option{google.WithMode(o.googleMode), google.WithName(r.Name)}
		if o.httpClient != nil {
			opts = append(opts, google.WithHTTPClient(o.httpClient))
		}
		if r.Kind == registry.KindGAR {
			if _, err := google.ArtifactRegistryHost(f["region"]); err != nil {
				return nil, false, err
			}
		}
		p, err := google.New(f["serviceAccountKey"], append(opts, o.googleOpts...)...)
		if err != nil {
			return nil, false, err
		}
		return p, p.Expiring(), nil
	case registry.KindKubernetes:
		ns, name, err := kubesa.ParseRef(f["serviceAccount"])
		if err != nil {
			return nil, false, err
		}
		if o.kube == nil {
			return nil, false, fmt.Errorf("%w: %w: a %s record needs a Kubernetes client: build the provider with providers.WithKubeClient",
				registry.ErrInvalid, registry.ErrNoProvider, registry.KindKubernetes.Label())
		}
		opts := []kubesa.Option{kubesa.WithName(r.Name)}
		if a := f["audience"]; a != "" {
			opts = append(opts, kubesa.WithAudiences(a))
		}
		if s := f["expirationSeconds"]; s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, false, &registry.FieldError{Field: "expirationSeconds", Reason: "is not a number of seconds"}
			}
			opts = append(opts, kubesa.WithLifetime(time.Duration(n)*time.Second))
		}
		p, err := kubesa.New(o.kube, ns, name, append(opts, o.kubeOpts...)...)
		return p, true, err
	}
	return nil, false, &registry.FieldError{Field: "type", Reason: "no provider for " + r.Kind.Label()}
}

// ecrProvider reads the ECR record: the region field, and the server when it names a
// concrete host (it must agree with the region; FIPS and public hosts pick those APIs).
func ecrProvider(r registry.Registry, o *options) (registry.Provider, error) {
	f := r.Fields
	region := f["region"]
	opts := []ecr.Option{ecr.WithName(r.Name)}
	if s, err := r.ServerInfo(); err == nil && !s.Wildcard {
		_, hostRegion, fips, public, err := ecr.ParseHost(s.Host)
		if err != nil {
			return nil, err
		}
		switch {
		case public:
			opts = append(opts, ecr.WithPublic())
		case hostRegion != region:
			return nil, &registry.FieldError{Field: "region", Reason: fmt.Sprintf("is %s but the registry %s is in %s", region, s.Host, hostRegion),
				Hint: "ECR tokens are regional: set region to " + hostRegion}
		case fips:
			opts = append(opts, ecr.WithFIPS())
		}
	}
	if f["accessKeyId"] != "" {
		opts = append(opts, ecr.WithStaticKeys(f["accessKeyId"], registry.Secret(f["secretAccessKey"]), registry.Secret(f["sessionToken"])))
	}
	if f["roleArn"] != "" {
		opts = append(opts, ecr.WithRole(f["roleArn"]))
	}
	if o.httpClient != nil {
		opts = append(opts, ecr.WithHTTPClient(o.httpClient))
	}
	return ecr.New(region, append(opts, o.ecrOpts...)...)
}
