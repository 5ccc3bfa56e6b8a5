package compose

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
	"github.com/regcred/regcred/registry/keychain"
)

// Keychain maps an image reference to the saved registry that serves it and that
// registry's credentials; *keychain.Keychain (keychain.New) is the one to use.
// When no saved registry matches it returns zero Credentials, a zero Registry and a nil
// error: compose then pulls that image anonymously (public images need no credentials),
// and if the registry refuses, the image's error says that no saved registry matches its
// host. An error (a token endpoint down, say) fails that image only.
type Keychain interface {
	Credentials(ctx context.Context, image string) (registry.Credentials, registry.Registry, error)
}

// KeychainFunc adapts a function to Keychain.
type KeychainFunc func(ctx context.Context, image string) (registry.Credentials, registry.Registry, error)

// Credentials calls f.
func (f KeychainFunc) Credentials(ctx context.Context, image string) (registry.Credentials, registry.Registry, error) {
	return f(ctx, image)
}

var (
	_ Keychain = KeychainFunc(nil)
	_ Keychain = (*keychain.Keychain)(nil)
)

// resolved is what the keychain said about one image.
type resolved struct {
	creds   registry.Credentials
	matched string // the saved registry's name, "" when none matched
}

// lookup asks the keychain (nil: everything anonymous). ErrNotFound from a custom keychain
// counts as "no saved registry".
//
// Credentials of a record in the secure or custom CA mode are handed to the Docker daemon
// (X-Registry-Auth, or the config dir docker-compose reads) only after the registry has
// completed a TLS handshake under that mode (registry.conntest.Handshake): the daemon retries a
// registry it deems insecure (127.0.0.0/8 by default, and its insecure-registries) over
// plain http, credentials included, when TLS fails, and it skips certificate verification
// for such a registry. A registry that answers in plain HTTP or with a certificate the
// mode does not trust fails the image with the handshake's *conntest.Error
// (errors.Is ErrHTTPInSecureMode, ErrTLSUnknownAuthority, ...); one that cannot be reached
// from here at all is left to the daemon, which may sit on another network. The check
// runs just before the daemon is called; a server that changes between the two is out of
// its reach.
func lookup(ctx context.Context, kc Keychain, ref string) (resolved, error) {
	if kc == nil {
		return resolved{}, nil
	}
	c, r, err := kc.Credentials(ctx, ref)
	if err != nil {
		if isNotFound(err) {
			return resolved{}, nil
		}
		return resolved{}, err
	}
	name := r.Name
	if name == "" {
		name = r.ID
	}
	if !c.Anonymous() && r.TLS.EffectiveMode() != registry.TLSInsecure {
		if err := checkTLS(ctx, r, ref); err != nil {
			return resolved{}, err
		}
	}
	return resolved{creds: c, matched: name}, nil
}

// checkTLS runs the record's TLS handshake against the image's registry host and returns
// an error only when the server was reached and failed it.
func checkTLS(ctx context.Context, r registry.Registry, ref string) error {
	parsed, err := name.ParseReference(ref)
	if err != nil {
		return nil // the daemon reports a malformed reference itself
	}
	host := parsed.Context().RegistryStr()
	err = conntest.Handshake(ctx, r.TLS, host)
	var ce *conntest.Error
	if err == nil || !errors.As(err, &ce) || ce.Step != registry.StepTLS {
		return nil
	}
	return &registry.Error{Op: "check tls", Registry: r.Name, Err: fmt.Errorf(
		"%w (the credentials were not handed to the docker daemon, which would retry over plain http or without verifying the certificate)", err)}
}
