package swarm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/distribution/reference"

	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
)

// dockerHubRegistryHost is the host the daemon contacts for Docker Hub's v2 API (login and
// pulls), whatever the server key says.
const dockerHubRegistryHost = "registry-1.docker.io"

// checkTLS is the gate in front of every call that hands credentials to the daemon (engine
// login, docker login, X-Registry-Auth on a service). Unless the record is in the insecure
// mode (t, from WithTLS; the zero TLS is the secure mode) and the credentials are not
// anonymous, it completes a TLS handshake with the registry under the record's mode
// (registry.conntest.Handshake) first: the daemon retries a registry it deems insecure (all of
// 127.0.0.0/8 by default, and its insecure-registries) over plain http, credentials
// included, when TLS fails, and skips certificate verification for it, so its own checks
// cannot be relied on.
//
// A server that answers in plain HTTP, or with a certificate the mode does not trust, is
// refused with the handshake's *conntest.Error (errors.Is ErrHTTPInSecureMode,
// ErrTLSUnknownAuthority, ...) and the daemon is never called. A server this process
// cannot reach at all (no DNS, connection refused, timeout) is left to the daemon, which
// may sit on another network (a remote swarm manager); a record whose TLS settings are
// themselves broken (a CA bundle with no certificate) is refused. The check runs just
// before the daemon is called: a server that changes between the two is out of its reach.
func checkTLS(ctx context.Context, op string, t registry.TLS, server string, c registry.Credentials) error {
	if c.Anonymous() || t.EffectiveMode() == registry.TLSInsecure {
		return nil
	}
	err := conntest.Handshake(ctx, t, handshakeHost(server))
	if err == nil {
		return nil
	}
	var ce *conntest.Error
	if errors.As(err, &ce) && ce.Step != registry.StepTLS {
		return nil // not reached from here; the daemon may be elsewhere
	}
	return &registry.Error{Op: op, Registry: ServerAddress(server), Err: fmt.Errorf(
		"%w (the credentials were not handed to the docker daemon, which would retry over plain http or without verifying the certificate; if the registry really is plain http, save it in the insecure TLS mode and pass its TLS with WithTLS)", err)}
}

// handshakeHost is the host[:port] the daemon contacts for a server key (ServerAddress
// form): Docker Hub's key names the v1 index, the daemon talks to registry-1.docker.io.
func handshakeHost(server string) string {
	s := ServerAddress(server)
	if s == registry.DockerHubServer {
		return dockerHubRegistryHost
	}
	host, _, _ := strings.Cut(s, "/")
	return host
}

// checkServiceAuth runs checkTLS for a service's X-Registry-Auth. The daemon's workers pull
// the service's image with those credentials from the image's registry, whatever server
// the auth names, so the handshake goes to the image's registry; an auth that names
// another server is refused (credentials go only to their own host). An empty or
// anonymous auth needs no check; one that does not decode is refused, since what it
// would carry cannot be checked.
func checkServiceAuth(ctx context.Context, op, subject string, t registry.TLS, image, encodedAuth string) error {
	if encodedAuth == "" {
		return nil
	}
	fail := func(fe *registry.FieldError) error { return &registry.Error{Op: op, Registry: subject, Err: fe} }
	c, server, err := DecodeAuth(encodedAuth)
	if err != nil {
		return fail(&registry.FieldError{Field: "registryAuth", Reason: "is not an X-Registry-Auth value (base64url JSON of the engine's auth config)",
			Hint: "build it with EncodeAuth"})
	}
	if c.Anonymous() {
		return nil
	}
	target := server
	if image != "" {
		named, err := reference.ParseNormalizedNamed(image)
		if err != nil {
			return fail(&registry.FieldError{Field: "image", Reason: "is not a valid image reference", Hint: "e.g. registry.example.com/team/app:1.0"})
		}
		imageServer := ServerAddress(reference.Domain(named))
		if server != "" && ServerAddress(server) != imageServer {
			return fail(&registry.FieldError{Field: "registryAuth",
				Reason: fmt.Sprintf("holds the credentials of %s but the image is on %s", untrusted.Text(ServerAddress(server)), untrusted.Text(imageServer)),
				Hint:   "encode the credentials of the image's own registry (EncodeAuth with the image's registry host)"})
		}
		target = imageServer
	}
	if target == "" {
		return fail(&registry.FieldError{Field: "registryAuth", Reason: "names no server", Hint: "build it with EncodeAuth and the registry host"})
	}
	return checkTLS(ctx, op, t, target, c)
}
