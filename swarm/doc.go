// Package swarm gives Docker Swarm nodes and services a registry's credentials through the
// Docker Engine API, the way `docker login` and `docker service create/update
// --with-registry-auth` do, without a password on any command line.
//
//   - Login asks a daemon to log in to a registry (POST /auth) and reports the daemon's
//     verdict: the check runs from the node, with its network and TLS trust.
//   - EncodeAuth builds the X-Registry-Auth value (base64url JSON of the engine's auth
//     config); CreateService sends it with a new service so the manager hands the
//     credentials to every worker with its task.
//   - UpdateServiceAuth rotates a service's registry auth after a credential change: it
//     writes the service's current spec back unchanged at its current version with only the
//     new auth header.
//   - CLILogin, for hosts reachable only through the CLI, runs `docker login
//     --password-stdin` into a DOCKER_CONFIG directory you choose.
//
// Credentials reach the daemon only over TLS the record trusts: Login, CLILogin,
// CreateService and UpdateServiceAuth take the saved registry's TLS settings with
// WithTLS(record.TLS), and without it treat the record as secure (https, system roots).
// Unless the record is in the insecure mode, the registry (for a service: the image's
// registry, which is where the workers send the credentials) must complete a TLS handshake
// under that mode before the daemon sees the credentials, because the daemon retries a
// registry it deems insecure (all of 127.0.0.0/8 by default, and its insecure-registries)
// over plain http with them. A registry that answers in plain HTTP or with a certificate
// the mode does not trust is refused (errors.Is registry.ErrHTTPInSecureMode,
// registry.ErrTLSUnknownAuthority, ...); one this process cannot reach at all is left to
// the daemon, which may sit on another network. An X-Registry-Auth naming another server
// than the image's registry is refused (ErrInvalid). EncodeAuth stays a pure encoder.
//
// The daemon's messages, statuses and warnings are remote text: they are bounded and their
// control characters and terminal escapes escaped (internal/untrusted) before they reach
// an error or a result.
//
// Rules: the package talks to the engine through small interfaces (LoginAPI, ServiceAPI)
// that *client.Client from github.com/docker/docker/client satisfies, so callers can fake
// them; the daemon's refusals come back as *registry.Error wrapping an *EngineError that
// carries the daemon's own message and a registry sentinel (ErrUnauthorized, ErrForbidden,
// ErrNotFound, ErrConflict, ErrInvalid, ErrUnavailable), with the request's secrets blanked
// out. The package never prints and keeps no state.
package swarm
