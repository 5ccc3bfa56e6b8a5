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
// Rules: the package talks to the engine through small interfaces (LoginAPI, ServiceAPI)
// that *client.Client from github.com/docker/docker/client satisfies, so callers can fake
// them; the daemon's refusals come back as *registry.Error wrapping an *EngineError that
// carries the daemon's own message and a registry sentinel (ErrUnauthorized, ErrForbidden,
// ErrNotFound, ErrConflict, ErrInvalid, ErrUnavailable), with the request's secrets blanked
// out. The package never prints and keeps no state.
package swarm
