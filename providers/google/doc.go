// Package google is the credential provider for Google Container Registry (gcr.io and its
// regional hosts) and Artifact Registry (REGION-docker.pkg.dev), from a service account
// key file.
//
// Rules:
//   - New checks the key with registry.ParseServiceAccountKey before any network call: not
//     JSON, not a service_account key, no client_email, a private key that is not PEM or
//     does not parse are each a *registry.FieldError for "serviceAccountKey" that never
//     quotes the key.
//   - Two modes (WithMode). AccessToken, the default: the key signs a JWT (RS256, scope
//     cloud-platform, one hour) through golang.org/x/oauth2/google.JWTConfigFromJSON, which
//     the token endpoint (the key's token_uri, or WithTokenURL) trades for an OAuth access
//     token: username oauth2accesstoken, expiry from expires_in (DefaultLifetime when
//     absent). The key stays in this process; wrap the provider with providers/cache.
//     JSONKey: username _json_key with the key file as the password; it never expires and
//     needs no token call, but whoever pulls holds the private key (the seeds' "JSON key
//     file" method). providers.For picks AccessToken unless told otherwise.
//   - ArtifactRegistryHost builds REGION-docker.pkg.dev from a location.
//   - ctx is honoured: x/oauth2's JWT source sends its request without a context, so the
//     provider's HTTP client re-attaches ctx to it.
//   - Errors are *registry.Error{Op: "refresh"} wrapping ErrUnauthorized (invalid_grant:
//     a deleted or disabled key, a bad signature), ErrForbidden, ErrUnavailable (5xx,
//     timeouts, malformed answers). They quote the OAuth error code and Google's short
//     description, never the key or a token.
package google
