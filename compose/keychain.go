package compose

import (
	"context"

	"github.com/regcred/regcred/registry"
)

// Keychain maps an image reference to the saved registry that serves it and that
// registry's credentials; *registry.Keychain (registry.NewKeychain) is the one to use.
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
	_ Keychain = (*registry.Keychain)(nil)
)

// resolved is what the keychain said about one image.
type resolved struct {
	creds   registry.Credentials
	matched string // the saved registry's name, "" when none matched
}

// lookup asks the keychain (nil: everything anonymous). ErrNotFound from a custom keychain
// counts as "no saved registry".
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
	return resolved{creds: c, matched: name}, nil
}
