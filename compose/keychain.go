package compose

import (
	"context"

	"github.com/regcred/regcred/registry"
)

// Keychain maps an image reference to the credentials of the saved registry that serves it
// (*registry.Keychain does, through registry.NewKeychain). It returns an error wrapping
// registry.ErrNotFound when no saved registry matches: compose then pulls that image
// anonymously (public images need no credentials), and if the registry refuses, the
// image's error says that no saved registry matches its host. Any other error (a token
// endpoint down, say) fails that image only.
type Keychain interface {
	Credentials(ctx context.Context, image string) (registry.Credentials, error)
}

// KeychainFunc adapts a function to Keychain.
type KeychainFunc func(ctx context.Context, image string) (registry.Credentials, error)

// Credentials calls f.
func (f KeychainFunc) Credentials(ctx context.Context, image string) (registry.Credentials, error) {
	return f(ctx, image)
}

var _ Keychain = KeychainFunc(nil)
