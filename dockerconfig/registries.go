package dockerconfig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/regcred/regcred/registry"
)

// Option configures FromRegistries.
type Option func(*buildOptions)

type buildOptions struct {
	hosts  map[string][]string
	logger *slog.Logger
}

// WithHost gives the wildcard registry named by ref (its ID, or its Name) the concrete
// hosts to write entries for. A docker config key cannot be a wildcard, so without this
// FromRegistries skips wildcard registries ("*.dkr.ecr.eu-west-1.amazonaws.com",
// "*.azurecr.io"). The platform knows the hosts its images use (an ECR token's proxy
// endpoint, the ACR login server of an image); each must be a bare host[:port] that
// matches the wildcard label for label, or FromRegistries fails: credentials never go to
// a host their registry does not cover. Repeat the option to add hosts.
func WithHost(ref string, hosts ...string) Option {
	return func(o *buildOptions) {
		if o.hosts == nil {
			o.hosts = map[string][]string{}
		}
		o.hosts[ref] = append(o.hosts[ref], hosts...)
	}
}

// WithLogger logs, at debug level, the registries FromRegistries leaves out and why.
func WithLogger(l *slog.Logger) Option { return func(o *buildOptions) { o.logger = l } }

// FromRegistries resolves each registry's credentials through the provider f makes for it
// (registry.StaticFactory when f is nil) and returns a config with one entry per registry,
// and the earliest expiry among the credentials used (zero when none expires): rebuild
// the config before then.
//
// The key is Key of the registry's server, so a path-scoped registry ("ghcr.io/myorg")
// keeps its path and Docker Hub is HubKey. Left out, without error: public registries,
// registries whose provider returns anonymous credentials, and wildcard registries without
// WithHost whose provider names no concrete host either (Credentials.Server: an ECR record
// saved as keys and region gets the host of its token's proxy endpoint, within the
// wildcard). Two registries that land on the same key are an error wrapping
// registry.ErrConflict: docker would use only one of them. Every error names the registry
// and the config is not returned, so a caller keeps what it deployed before. A redacted
// view among regs (r.IsRedacted(): what Catalog.Get and List hand out) works with the
// Catalog's factory (Catalog.ProviderFactory resolves it by ID); every other factory
// refuses it with an error wrapping registry.ErrRedacted, and nothing is returned.
// Providers are called one after the other, with ctx.
func FromRegistries(ctx context.Context, regs []registry.Registry, f registry.ProviderFactory, opts ...Option) (*Config, time.Time, error) {
	var o buildOptions
	for _, opt := range opts {
		opt(&o)
	}
	if f == nil {
		f = registry.StaticFactory
	}
	cfg := New()
	var earliest time.Time
	owner := map[string]string{}
	for _, r := range regs {
		if r.Kind == registry.KindPublic {
			o.skip(ctx, r, "public registry: no credentials")
			continue
		}
		s, err := r.ServerInfo()
		if err != nil {
			return nil, time.Time{}, &registry.Error{Op: "dockerconfig", Registry: r.Name, Err: err}
		}
		keys, err := o.keysFor(r, s)
		if err != nil {
			return nil, time.Time{}, &registry.Error{Op: "dockerconfig", Registry: r.Name, Err: err}
		}
		p, err := f(r)
		if err != nil {
			return nil, time.Time{}, named(r, "provider", err)
		}
		c, err := p.Credentials(ctx)
		if err != nil {
			return nil, time.Time{}, named(r, "credentials", err)
		}
		if c.Anonymous() {
			o.skip(ctx, r, "anonymous credentials")
			continue
		}
		if len(keys) == 0 { // a wildcard without WithHost: the provider may have learnt its host
			if keys, err = learntKeys(s, c); err != nil {
				return nil, time.Time{}, &registry.Error{Op: "dockerconfig", Registry: r.Name, Err: err}
			}
			if len(keys) == 0 {
				o.skip(ctx, r, "wildcard server "+s.Host+" cannot be a docker config key; give its hosts with WithHost")
				continue
			}
		}
		for _, k := range keys {
			if prev, dup := owner[k]; dup {
				return nil, time.Time{}, &registry.Error{Op: "dockerconfig", Registry: r.Name,
					Err: fmt.Errorf("key %s is taken by registry %q: docker uses one credential per key: %w", k, prev, registry.ErrConflict)}
			}
			owner[k] = r.Name
			cfg.Auths[k] = Entry(c)
		}
		if !c.ExpiresAt.IsZero() && (earliest.IsZero() || c.ExpiresAt.Before(earliest)) {
			earliest = c.ExpiresAt
		}
	}
	return cfg, earliest, nil
}

// keysFor returns the keys registry r gets: the WithHost hosts for a wildcard, nil for a
// wildcard without them, Key(server) otherwise.
func (o *buildOptions) keysFor(r registry.Registry, s registry.Server) ([]string, error) {
	hosts := o.hosts[r.Name]
	if r.ID != "" && r.ID != r.Name {
		hosts = append(hosts[:len(hosts):len(hosts)], o.hosts[r.ID]...)
	}
	if len(hosts) == 0 {
		if s.Wildcard {
			return nil, nil
		}
		return []string{s.Key()}, nil
	}
	if !s.Wildcard {
		return nil, &registry.FieldError{Field: "url", Reason: "WithHost is for wildcard servers; " + s.Host + " is concrete",
			Hint: "drop the WithHost option for this registry"}
	}
	keys := make([]string, 0, len(hosts))
	for _, h := range hosts {
		hs, err := registry.ParseServer(h)
		if err != nil {
			return nil, fmt.Errorf("WithHost %q: %w", h, err)
		}
		if hs.Wildcard || hs.Path != "" || !s.Matches(hs.Host) {
			return nil, &registry.FieldError{Field: "url", Reason: fmt.Sprintf("WithHost %q does not match the registry's server %s", h, s.Host),
				Hint: "give a bare host the wildcard covers"}
		}
		keys = append(keys, hs.Key())
	}
	return keys, nil
}

// learntKeys is the key of the concrete host a provider reported for a wildcard registry
// (Credentials.Server: ECR's token proxy endpoint), nil when it reported none. A host the
// wildcard does not cover is an error: credentials never go to another host.
func learntKeys(s registry.Server, c registry.Credentials) ([]string, error) {
	if c.Server == "" {
		return nil, nil
	}
	hs, err := registry.ParseServer(c.Server)
	if err != nil || hs.Wildcard || hs.Path != "" || !s.Matches(hs.Host) {
		return nil, &registry.FieldError{Field: "url", Reason: "the provider's credentials are for a host the registry's server " + s.Host + " does not cover",
			Hint: "check the region (or give the registry its concrete host)"}
	}
	return []string{hs.Key()}, nil
}

func (o *buildOptions) skip(ctx context.Context, r registry.Registry, why string) {
	if o.logger != nil {
		o.logger.DebugContext(ctx, "dockerconfig: registry left out", "registry", r.Name, "reason", why)
	}
}

// named wraps err so it names r, unless it already names a registry.
func named(r registry.Registry, op string, err error) error {
	var re *registry.Error
	if errors.As(err, &re) && re.Registry != "" {
		return err
	}
	return &registry.Error{Op: op, Registry: r.Name, Err: err}
}
