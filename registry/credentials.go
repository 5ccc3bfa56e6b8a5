package registry

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Credentials are what one pull uses: a username with a password, or an identity (refresh)
// token, or a registry (bearer) token; the zero value is anonymous. ExpiresAt is when they
// stop working; zero means never.
//
// Its JSON form (json.Marshal, slog's JSON handler) is redacted: each Secret reads Redacted.
type Credentials struct {
	Username      string    `json:"username,omitempty"`
	Password      Secret    `json:"password,omitempty"`
	IdentityToken Secret    `json:"identityToken,omitempty"` // OAuth2 refresh token (ACR's AAD flow); docker config "identitytoken"
	RegistryToken Secret    `json:"registryToken,omitempty"` // a bearer token sent as is; docker config "registrytoken"
	ExpiresAt     time.Time `json:"expiresAt,omitzero"`
	Server        string    `json:"server,omitempty"` // the concrete host these are for when the provider learns it (ECR: the token's proxy endpoint); "" = the record's server. Adapters use it in place of a wildcard server.
}

// Anonymous reports whether c carries no credential at all.
func (c Credentials) Anonymous() bool {
	return c.Username == "" && c.Password == "" && c.IdentityToken == "" && c.RegistryToken == ""
}

// Expired reports whether c has an expiry at or before now.
func (c Credentials) Expired(now time.Time) bool {
	return !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt)
}

// AuthConfig converts c for go-containerregistry.
func (c Credentials) AuthConfig() authn.AuthConfig {
	return authn.AuthConfig{
		Username:      c.Username,
		Password:      c.Password.Reveal(),
		IdentityToken: c.IdentityToken.Reveal(),
		RegistryToken: c.RegistryToken.Reveal(),
	}
}

// Authenticator converts c into a go-containerregistry authenticator (authn.Anonymous when
// c is anonymous).
func (c Credentials) Authenticator() authn.Authenticator {
	if c.Anonymous() {
		return authn.Anonymous
	}
	return authn.FromConfig(c.AuthConfig())
}

// String describes c without secrets.
func (c Credentials) String() string {
	if c.Anonymous() {
		return "credentials{anonymous}"
	}
	s := "credentials{user=" + c.Username
	if c.Password != "" {
		s += " password=" + Redacted
	}
	if c.IdentityToken != "" {
		s += " identitytoken=" + Redacted
	}
	if c.RegistryToken != "" {
		s += " registrytoken=" + Redacted
	}
	if !c.ExpiresAt.IsZero() {
		s += " expires=" + c.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return s + "}"
}

// GoString redacts for %#v.
func (c Credentials) GoString() string {
	return fmt.Sprintf("registry.Credentials{Username:%q, Password:%#v, IdentityToken:%#v, RegistryToken:%#v, ExpiresAt:%s}",
		c.Username, c.Password, c.IdentityToken, c.RegistryToken, c.ExpiresAt.UTC().Format(time.RFC3339))
}

// Format redacts under every verb.
func (c Credentials) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, c.GoString())
		return
	}
	io.WriteString(f, c.String())
}

// LogValue is what slog logs.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("username", c.Username),
		slog.String("password", c.Password.String()),
		slog.String("identitytoken", c.IdentityToken.String()),
		slog.String("registrytoken", c.RegistryToken.String()),
		slog.Time("expires", c.ExpiresAt),
	)
}

var (
	_ fmt.Formatter  = Credentials{}
	_ slog.LogValuer = Credentials{}
)
