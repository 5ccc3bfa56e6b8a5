package swarm

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	dockerregistry "github.com/docker/docker/api/types/registry"

	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/registry"
)

// ServerAddress is the server key the engine and the docker CLI use for a registry host:
// dockerconfig.Key, the one docker-key rule. Docker Hub's names (docker.io,
// index.docker.io, registry-1.docker.io) become registry.DockerHubServer; any other host is
// lowercased without scheme, trailing slash or API version path.
func ServerAddress(host string) string { return dockerconfig.Key(host) }

// AuthConfig converts c into the engine's auth config for serverAddress (see ServerAddress).
// The result holds the secret in clear: it is for the engine, never for a log.
func AuthConfig(c registry.Credentials, serverAddress string) dockerregistry.AuthConfig {
	return dockerregistry.AuthConfig{
		Username:      c.Username,
		Password:      c.Password.Reveal(),
		ServerAddress: ServerAddress(serverAddress),
		IdentityToken: c.IdentityToken.Reveal(),
		RegistryToken: c.RegistryToken.Reveal(),
	}
}

// EncodeAuth returns the X-Registry-Auth header value for c at serverAddress: the JSON auth
// config, base64url-encoded with padding (RFC 4648 §5), exactly what the docker CLI sends
// with --with-registry-auth and what the engine decodes for image pulls and service
// create/update. Anonymous credentials encode the server address alone, which tells the
// engine to pull without credentials.
func EncodeAuth(c registry.Credentials, serverAddress string) (string, error) {
	b, err := json.Marshal(AuthConfig(c, serverAddress))
	if err != nil { // cannot happen for a struct of strings; kept for the contract
		return "", &registry.Error{Op: "encode registry auth", Registry: ServerAddress(serverAddress), Err: err}
	}
	return base64.URLEncoding.EncodeToString(b), nil
}

// DecodeAuth is EncodeAuth's inverse, for tests and diagnostics. It accepts padded and
// unpadded base64url, as the engine does not care about padding on the wire.
func DecodeAuth(encoded string) (registry.Credentials, string, error) {
	b, err := base64.URLEncoding.DecodeString(encoded)
	if err != nil {
		b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(encoded, "="))
	}
	if err != nil {
		return registry.Credentials{}, "", &registry.Error{Op: "decode registry auth", Err: registry.ErrInvalid}
	}
	var ac dockerregistry.AuthConfig
	if err := json.Unmarshal(b, &ac); err != nil {
		return registry.Credentials{}, "", &registry.Error{Op: "decode registry auth", Err: registry.ErrInvalid}
	}
	c := registry.Credentials{
		Username:      ac.Username,
		Password:      registry.Secret(ac.Password),
		IdentityToken: registry.Secret(ac.IdentityToken),
		RegistryToken: registry.Secret(ac.RegistryToken),
	}
	if c.Username == "" && c.Password == "" && ac.Auth != "" {
		if raw, err := base64.StdEncoding.DecodeString(ac.Auth); err == nil {
			u, p, _ := strings.Cut(string(raw), ":")
			c.Username, c.Password = u, registry.Secret(p)
		}
	}
	return c, ac.ServerAddress, nil
}
