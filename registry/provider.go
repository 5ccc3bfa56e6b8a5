package registry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Provider resolves a registry's credentials. Implementations are safe for concurrent use;
// a call may block on a token endpoint and honours ctx. A provider whose credentials expire
// sets Credentials.ExpiresAt; callers cache through a refreshing wrapper (providers.Cached),
// not by holding the value.
type Provider interface {
	Credentials(ctx context.Context) (Credentials, error)
}

// Invalidator is implemented by providers that cache: Invalidate drops the cached value so
// the next call fetches anew (after a 401, say).
type Invalidator interface {
	Invalidate()
}

// Expirer is implemented by caching providers that know when their current value expires,
// so adapters can annotate secrets and schedule refreshes without fetching.
type Expirer interface {
	ExpiresAt() time.Time
}

// ProviderFunc adapts a function to Provider.
type ProviderFunc func(ctx context.Context) (Credentials, error)

// Credentials calls f.
func (f ProviderFunc) Credentials(ctx context.Context) (Credentials, error) { return f(ctx) }

// Static returns a provider that always returns c.
func Static(c Credentials) Provider { return staticProvider{c} }

// Anonymous returns a provider of no credentials, for public registries.
func Anonymous() Provider { return staticProvider{} }

type staticProvider struct{ c Credentials }

func (p staticProvider) Credentials(context.Context) (Credentials, error) { return p.c, nil }
func (p staticProvider) String() string                                   { return p.c.String() }

// Format redacts under every verb: %#v of an unexported field would bypass Credentials'
// own redaction.
func (p staticProvider) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, "registry.Static("+p.c.GoString()+")")
		return
	}
	io.WriteString(f, p.c.String())
}

// LogValue redacts for slog.
func (p staticProvider) LogValue() slog.Value { return p.c.LogValue() }

// StaticCredentials maps the fields of a static kind (Docker Hub, GHCR, Quay, Harbor,
// custom, public, and ACR without a tenant: basic auth) to Credentials. ok is false for
// kinds whose credentials come from a token endpoint; use providers.For for those.
func StaticCredentials(r Registry) (c Credentials, ok bool) {
	f := r.Fields
	switch r.Kind {
	case KindPublic:
		return Credentials{}, true
	case KindDockerHub, KindHarbor, KindCustom:
		return Credentials{Username: f["username"], Password: Secret(f["password"])}, true
	case KindGHCR, KindQuay:
		return Credentials{Username: f["username"], Password: Secret(f["token"])}, true
	case KindACR:
		if f["tenant"] == "" {
			return Credentials{Username: f["username"], Password: Secret(f["password"])}, true
		}
	}
	return Credentials{}, false
}

// ProviderFactory turns a saved record into its provider. The Keychain and the Catalog take
// one; providers.For is the one that knows every kind. StaticFactory knows the static kinds.
//
// Given a redacted view (r.IsRedacted()), a factory either resolves the real credentials by
// the record's ID (Catalog.ProviderFactory: the safe path from the Catalog to an adapter)
// or refuses with an error wrapping ErrRedacted (StaticFactory, providers.For). Adapters
// leave that decision to their factory, so a redacted view never turns into a deployed
// "REDACTED" password.
type ProviderFactory func(Registry) (Provider, error)

// StaticFactory is the ProviderFactory for static kinds. It fails with ErrInvalid for token
// kinds, naming providers.For as the factory to use, and with ErrRedacted for a redacted view.
func StaticFactory(r Registry) (Provider, error) {
	if r.IsRedacted() {
		return nil, &Error{Op: "provider", Registry: r.Name, Err: ErrRedacted}
	}
	c, ok := StaticCredentials(r)
	if !ok {
		return nil, &Error{Op: "provider", Registry: r.Name, Err: fmt.Errorf("%w: %w", ErrNoProvider, &FieldError{Field: "type",
			Reason: r.Kind.Label() + " needs a token provider", Hint: "build the keychain with providers.For"})}
	}
	return Static(c), nil
}
