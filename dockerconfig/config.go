package dockerconfig

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/regcred/regcred/registry"
)

// HubKey is the key Docker Hub's credentials live under, whatever alias the user wrote
// (docker.io, index.docker.io, registry-1.docker.io).
const HubKey = registry.DockerHubServer

// TokenUsername is the username that marks an identity token: an entry (or a credential
// helper's answer) with this username carries an identity token in its password.
const TokenUsername = "<token>"

// Config is a docker config.json or a Kubernetes .dockerconfigjson. The zero value is an
// empty config ready to use. A Config is not safe for concurrent mutation.
//
// Every way of printing a Config (String, %v, %+v, %#v, slog) shows keys and usernames only.
type Config struct {
	// Auths holds the inline credentials by key (see Key). Decode always makes it non-nil.
	Auths map[string]AuthEntry
	// CredHelpers names the credential helper per registry host: "gcr.io": "gcloud" runs
	// docker-credential-gcloud for gcr.io. Nil when the document has none.
	CredHelpers map[string]string
	// CredsStore names the helper for every registry without a CredHelpers entry.
	CredsStore string
	// Extra holds the top-level keys this package does not model ("HttpHeaders",
	// "psFormat", "proxies", ...), compacted, so a round trip keeps them. Nil when none.
	// Encode refuses an Extra key that collides with auths, credHelpers or credsStore.
	Extra map[string]json.RawMessage
}

// AuthEntry is one entry of "auths". On the wire it is
// {"username", "password", "email", "auth": base64(username:password), "identitytoken",
// "registrytoken"}. Every way of printing it redacts the secrets.
type AuthEntry struct {
	Username      string
	Password      registry.Secret
	Email         string          // kept for old tools; docker ignores it
	IdentityToken registry.Secret // OAuth2 refresh token ("identitytoken")
	RegistryToken registry.Secret // bearer token sent as is ("registrytoken")
}

// Entry builds the AuthEntry for c. A username of TokenUsername turns the password into the
// identity token (unless c already has one), as the docker CLI does.
func Entry(c registry.Credentials) AuthEntry {
	return normalize(AuthEntry{
		Username:      c.Username,
		Password:      c.Password,
		IdentityToken: c.IdentityToken,
		RegistryToken: c.RegistryToken,
	})
}

// normalize applies the TokenUsername rule.
func normalize(e AuthEntry) AuthEntry {
	if e.Username == TokenUsername {
		if e.IdentityToken == "" {
			e.IdentityToken = e.Password
		}
		e.Username, e.Password = "", ""
	}
	return e
}

// Credentials returns the entry's credentials (zero ExpiresAt: a docker config has no
// expiry).
func (e AuthEntry) Credentials() registry.Credentials {
	return registry.Credentials{
		Username:      e.Username,
		Password:      e.Password,
		IdentityToken: e.IdentityToken,
		RegistryToken: e.RegistryToken,
	}
}

// Empty reports whether the entry carries no credential (it may still have an email).
func (e AuthEntry) Empty() bool { return e.Credentials().Anonymous() }

// String describes the entry without secrets.
func (e AuthEntry) String() string {
	var b strings.Builder
	b.WriteString("auth{")
	sep := ""
	add := func(k, v string) {
		if v != "" {
			b.WriteString(sep + k + "=" + v)
			sep = " "
		}
	}
	add("user", e.Username)
	add("password", e.Password.String())
	add("email", e.Email)
	add("identitytoken", e.IdentityToken.String())
	add("registrytoken", e.RegistryToken.String())
	b.WriteString("}")
	return b.String()
}

// GoString redacts for %#v.
func (e AuthEntry) GoString() string {
	return fmt.Sprintf("dockerconfig.AuthEntry{Username:%q, Password:%#v, Email:%q, IdentityToken:%#v, RegistryToken:%#v}",
		e.Username, e.Password, e.Email, e.IdentityToken, e.RegistryToken)
}

// Format redacts under every verb.
func (e AuthEntry) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, e.GoString())
		return
	}
	io.WriteString(f, e.String())
}

// LogValue is what slog logs.
func (e AuthEntry) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("username", e.Username),
		slog.String("password", e.Password.String()),
		slog.String("email", e.Email),
		slog.String("identitytoken", e.IdentityToken.String()),
		slog.String("registrytoken", e.RegistryToken.String()),
	)
}

// New returns an empty config.
func New() *Config { return &Config{Auths: map[string]AuthEntry{}} }

// Keys returns the keys of Auths, sorted.
func (c *Config) Keys() []string {
	keys := make([]string, 0, len(c.Auths))
	for k := range c.Auths {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Set stores creds for server under Key(server), replacing the credentials of the entry
// there (its email is kept, else the email of the smallest alias key) and deleting the other keys that name the same server
// ("https://ghcr.io", "ghcr.io/v2/", ...) so exactly one entry answers for it.
func (c *Config) Set(server string, creds registry.Credentials) {
	key := Key(server)
	if c.Auths == nil {
		c.Auths = map[string]AuthEntry{}
	}
	e := Entry(creds)
	e.Email = c.Auths[key].Email
	emailFrom := ""
	for k, old := range c.Auths {
		if k != key && Key(k) == key {
			if _, exact := c.Auths[key]; !exact && old.Email != "" && (emailFrom == "" || k < emailFrom) {
				e.Email, emailFrom = old.Email, k
			}
			delete(c.Auths, k)
		}
	}
	c.Auths[key] = e
}

// Delete removes every entry stored under a key that names server (Key(k) == Key(server))
// and reports whether there was one.
func (c *Config) Delete(server string) bool {
	key := Key(server)
	found := false
	for k := range c.Auths {
		if Key(k) == key {
			delete(c.Auths, k)
			found = true
		}
	}
	return found
}

// Lookup finds the inline entry for server in Auths, without credential helpers. It tries
// Key(server), then the same server with one path segment fewer, down to the bare host
// ("ghcr.io/org/team", "ghcr.io/org", "ghcr.io"), so a host-wide entry serves every path
// but a path-scoped entry never serves its parent. At each step an exact key wins over the
// keys docker also accepts for it ("https://ghcr.io", "http://ghcr.io/", "ghcr.io/v2/",
// upper case); among those the smallest key wins, so the answer is deterministic. It
// returns the key found.
func (c *Config) Lookup(server string) (key string, e AuthEntry, ok bool) {
	k := Key(server)
	for k != "" {
		if e, ok := c.Auths[k]; ok {
			return k, e, true
		}
		found := ""
		for stored := range c.Auths {
			if Key(stored) == k && (found == "" || stored < found) {
				found = stored
			}
		}
		if found != "" {
			return found, c.Auths[found], true
		}
		k = parentKey(k)
	}
	return "", AuthEntry{}, false
}

// String describes the config without secrets: the auths keys, the helpers, the number of
// other keys.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("dockerconfig{auths=[")
	for i, k := range c.Keys() {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(k)
	}
	b.WriteString("]")
	if len(c.CredHelpers) > 0 {
		hosts := make([]string, 0, len(c.CredHelpers))
		for h := range c.CredHelpers {
			hosts = append(hosts, h)
		}
		slices.Sort(hosts)
		b.WriteString(" credHelpers=[")
		for i, h := range hosts {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(h + ":" + c.CredHelpers[h])
		}
		b.WriteString("]")
	}
	if c.CredsStore != "" {
		b.WriteString(" credsStore=" + c.CredsStore)
	}
	if len(c.Extra) > 0 {
		fmt.Fprintf(&b, " extra=%d", len(c.Extra))
	}
	b.WriteString("}")
	return b.String()
}

// GoString redacts for %#v: entries print through AuthEntry.GoString, Extra by key only.
func (c Config) GoString() string {
	var b strings.Builder
	b.WriteString("&dockerconfig.Config{Auths:map[string]dockerconfig.AuthEntry{")
	for i, k := range c.Keys() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q:%#v", k, c.Auths[k])
	}
	fmt.Fprintf(&b, "}, CredHelpers:%#v, CredsStore:%q, Extra:%d keys}", c.CredHelpers, c.CredsStore, len(c.Extra))
	return b.String()
}

// Format redacts under every verb: %#v prints GoString, %+v lists every entry redacted,
// the others print String.
func (c Config) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, c.GoString())
	case verb == 'v' && f.Flag('+'):
		io.WriteString(f, "dockerconfig{")
		for i, k := range c.Keys() {
			if i > 0 {
				io.WriteString(f, " ")
			}
			io.WriteString(f, k+":"+c.Auths[k].String())
		}
		io.WriteString(f, "} "+strings.TrimPrefix(c.String(), "dockerconfig"))
	default:
		io.WriteString(f, c.String())
	}
}

// LogValue is what slog logs: one group per entry, redacted, plus the helpers.
func (c Config) LogValue() slog.Value {
	entries := make([]slog.Attr, 0, len(c.Auths))
	for _, k := range c.Keys() {
		entries = append(entries, slog.Attr{Key: k, Value: c.Auths[k].LogValue()})
	}
	attrs := []slog.Attr{{Key: "auths", Value: slog.GroupValue(entries...)}}
	if c.CredsStore != "" {
		attrs = append(attrs, slog.String("credsStore", c.CredsStore))
	}
	if len(c.CredHelpers) > 0 {
		helpers := make([]slog.Attr, 0, len(c.CredHelpers))
		for h, name := range c.CredHelpers {
			helpers = append(helpers, slog.String(h, name))
		}
		slices.SortFunc(helpers, func(a, b slog.Attr) int { return strings.Compare(a.Key, b.Key) })
		attrs = append(attrs, slog.Attr{Key: "credHelpers", Value: slog.GroupValue(helpers...)})
	}
	if len(c.Extra) > 0 {
		attrs = append(attrs, slog.Int("extraKeys", len(c.Extra)))
	}
	return slog.GroupValue(attrs...)
}

var (
	_ fmt.Formatter  = AuthEntry{}
	_ slog.LogValuer = AuthEntry{}
	_ fmt.Formatter  = Config{}
	_ slog.LogValuer = Config{}
)
