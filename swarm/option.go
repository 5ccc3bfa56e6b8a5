package swarm

import "github.com/regcred/regcred/registry"

// Option configures Login, CLILogin, CreateService and UpdateServiceAuth. Each function
// reads the options its doc names and ignores the others, so one option list can serve a
// whole deployment (WithTLS, typically).
type Option func(*config)

// config holds every option; the defaults live in newConfig.
type config struct {
	tls          registry.TLS
	binary       string
	env          []string
	resolveImage bool
}

func newConfig(opts []Option) config {
	c := config{binary: "docker"} // tls: the zero TLS is the secure mode
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// WithTLS gives the saved registry's TLS settings (registry.Registry.TLS), for Login,
// CLILogin, CreateService and UpdateServiceAuth. Without it the record is taken to be in
// the secure mode (https verified against the system roots): credentials reach the daemon
// only after the registry completed a TLS handshake that mode trusts, because the daemon
// retries a registry it deems insecure (127.0.0.0/8 by default, and its
// insecure-registries) over plain http with the credentials. Pass the record's TLS, so a
// custom-CA record is checked against its bundle and a plain-http registry, which only the
// insecure mode may reach, gets its credentials when, and only when, the record says so.
func WithTLS(t registry.TLS) Option { return func(c *config) { c.tls = t } }

// WithDockerBinary sets the docker CLI CLILogin runs (default: "docker" on PATH).
func WithDockerBinary(path string) Option { return func(c *config) { c.binary = path } }

// WithEnv adds environment variables (KEY=VALUE) for CLILogin's CLI, e.g. DOCKER_HOST for
// a remote node. DOCKER_CONFIG is always the directory given to CLILogin.
func WithEnv(kv ...string) Option {
	return func(c *config) { c.env = append(c.env, kv...) }
}

// WithResolveImage makes CreateService ask the registry (through the daemon, with the same
// registry auth) for the image's digest and platforms and pin the spec to them, as
// `docker service create` does by default (--resolve-image=always). Off by default, so the
// spec the daemon stores is the one you passed.
func WithResolveImage(on bool) Option {
	return func(c *config) { c.resolveImage = on }
}
