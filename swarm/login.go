package swarm

import (
	"context"
	"strings"

	dockerregistry "github.com/docker/docker/api/types/registry"

	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registry"
)

// LoginAPI is the part of the Engine API client that Login needs; *client.Client has it.
type LoginAPI interface {
	RegistryLogin(ctx context.Context, auth dockerregistry.AuthConfig) (dockerregistry.AuthenticateOKBody, error)
}

// LoginResult is the daemon's verdict on a successful login.
type LoginResult struct {
	// Status is the daemon's message, "Login Succeeded", bounded and escaped.
	Status string
	// IdentityToken is the refresh token some registries return for later logins in place of
	// the password (the docker CLI stores it as "identitytoken"); often empty.
	IdentityToken registry.Secret
}

// Login asks the daemon behind api to log in to serverAddress with c (POST /auth): the daemon
// itself contacts the registry, so this checks the credentials from the node's point of view
// (its network, its TLS trust, its insecure-registries list). The daemon keeps nothing: the
// login is a check, and pulls still need their X-Registry-Auth (EncodeAuth).
//
// Before the daemon sees the credentials, the registry must complete a TLS handshake under
// the record's TLS mode (WithTLS; the secure mode when it is not given): a registry that
// answers in plain HTTP or with a certificate the mode does not trust is refused with the
// handshake's error (errors.Is registry.ErrHTTPInSecureMode, registry.ErrTLSUnknownAuthority,
// ...), because the daemon would retry it over plain http with the credentials. Only a
// record in the insecure mode logs in to a plain-http registry.
//
// A refusal is a *registry.Error{Op: "engine login"} wrapping an *EngineError with the
// daemon's verdict; errors.Is(err, registry.ErrUnauthorized) holds when the registry refused
// the credentials, registry.ErrUnavailable when the daemon or the registry cannot be reached.
func Login(ctx context.Context, api LoginAPI, serverAddress string, c registry.Credentials, opts ...Option) (LoginResult, error) {
	cfg := newConfig(opts)
	server := ServerAddress(serverAddress)
	if server == "" {
		return LoginResult{}, &registry.Error{Op: "engine login", Err: &registry.FieldError{Field: "url", Reason: "is empty", Hint: "give the registry host, e.g. registry.example.com"}}
	}
	if err := checkTLS(ctx, "engine login", cfg.tls, server, c); err != nil {
		return LoginResult{}, err
	}
	body, err := api.RegistryLogin(ctx, AuthConfig(c, server))
	if err != nil {
		return LoginResult{}, engineError("engine login", server, err,
			c.Password.Reveal(), c.IdentityToken.Reveal(), c.RegistryToken.Reveal())
	}
	return LoginResult{Status: untrusted.Text(strings.TrimSpace(body.Status)), IdentityToken: registry.Secret(body.IdentityToken)}, nil
}
