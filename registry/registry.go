package registry

import (
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/regcred/regcred/internal/untrusted"
)

// Registry is the saved record: what a user fills in on a "Container Registries" page.
// Secret credential fields live in Fields next to the others; the kind's schema (Kind.Fields)
// says which are secret. Every way of printing a Registry (String, %v, %+v, %#v, slog)
// redacts them; Redacted returns a copy safe to send to a browser.
type Registry struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Kind    Kind              `json:"kind"`
	Server  string            `json:"server,omitempty"` // as the user typed it; see ServerInfo
	Fields  map[string]string `json:"fields,omitempty"` // credential fields by schema name
	TLS     TLS               `json:"tls,omitzero"`
	Default bool              `json:"default,omitempty"`
	Owner   string            `json:"owner,omitempty"`  // who created it; only they may delete it
	Version int64             `json:"version"`          // bumped by every update; 0 before the first save
	Mirror  *Mirror           `json:"mirror,omitempty"` // set when this registry mirrors another
	// Scope limits who may use the registry (teams, projects, namespaces); zero: everyone.
	Scope Scope `json:"scope,omitzero"`
	// CredentialsExpire is the known end of life of the static credential (a PAT, a robot
	// account), for reminders; zero: unknown or never.
	CredentialsExpire time.Time `json:"credentialsExpire,omitzero"`
	Created           time.Time `json:"created,omitzero"`
	Updated           time.Time `json:"updated,omitzero"`

	redacted bool          // set by Redacted: secret fields read Redacted, not their values
	parsed   *parsedServer // the server as last parsed (ParseServer); copies share it
}

// parsedServer is a Registry's server parsed once: raw is the string it was parsed from
// (Server, or the kind's default server), so a record whose server changed since is
// parsed again. It is immutable: copies of the record share it.
type parsedServer struct {
	raw string
	s   Server
}

// Equal makes go-cmp treat the cache as no part of the record's value: a record compares
// equal with or without it.
func (*parsedServer) Equal(*parsedServer) bool { return true }

// rawServer is the server string ServerInfo parses: the record's own, else the kind's
// default.
func (r *Registry) rawServer() string {
	if r.Server != "" {
		return r.Server
	}
	return r.Kind.DefaultServer(r.Fields)
}

// ServerInfo returns the parsed server: the record's own, else the kind's default. A
// record that came from FromForm, UnmarshalStored, UnmarshalJSON or ParseServer carries its
// parsed server and returns it without parsing again (as long as the server is unchanged).
func (r Registry) ServerInfo() (Server, error) {
	if p := r.parsed; p != nil && p.raw == r.Server && r.Server != "" {
		return p.s, nil
	}
	raw := r.rawServer()
	if raw == "" {
		return Server{}, &FieldError{Field: "url", Reason: "is required for " + r.Kind.Label(), Hint: "give the registry host, e.g. registry.example.com"}
	}
	if p := r.parsed; p != nil && p.raw == raw {
		return p.s, nil
	}
	return ParseServer(raw)
}

// ParseServer parses the record's server (ServerInfo) and keeps the result in the record,
// so ServerInfo, Host, String and every consumer (Keychain, Transport, dockerconfig) use
// it without parsing again. FromForm, UnmarshalStored and UnmarshalJSON call it; call it
// after building a record by hand (a registries file, a literal) or after changing its
// Server. The Server string is not changed. A server that does not parse gives ServerInfo's
// *FieldError and leaves nothing cached.
func (r *Registry) ParseServer() error {
	raw := r.rawServer()
	if p := r.parsed; p != nil && p.raw == raw {
		return nil
	}
	r.parsed = nil
	s, err := r.ServerInfo()
	if err != nil {
		return err
	}
	r.parsed = &parsedServer{raw: raw, s: s}
	return nil
}

// Host is the registry's host[:port] (lowercase), or "" when the server is invalid.
func (r Registry) Host() string {
	s, err := r.ServerInfo()
	if err != nil {
		return ""
	}
	return s.Host
}

// IsSecretField reports whether the named field is secret for the record's kind. Unknown
// fields count as secret: better to hide a typo than to show a password.
func (r Registry) IsSecretField(name string) bool {
	f, ok := r.Kind.Field(name)
	return !ok || f.Secret
}

// Redacted returns a deep copy whose secret fields read Redacted (empty ones stay empty),
// whose server (and mirror upstream) has any user info replaced (RedactServer), and whose
// TLS CA bundle is kept (it is public). Use it for every view that leaves the
// process: API responses, logs, listings. The copy is marked (IsRedacted): stores refuse
// to save it and adapters refuse to deploy it (ErrRedacted).
func (r Registry) Redacted() Registry {
	out := r.Clone()
	out.redacted = true
	out.Server = RedactServer(r.Server)
	if out.Mirror != nil {
		out.Mirror.Of = RedactServer(out.Mirror.Of)
	}
	if r.Fields != nil {
		out.Fields = make(map[string]string, len(r.Fields))
		for k, v := range r.Fields {
			if v != "" && r.IsSecretField(k) {
				v = Redacted
			}
			out.Fields[k] = v
		}
	}
	return out
}

// IsRedacted reports whether r is a redacted view (it came from Redacted, from a Catalog
// read, or from JSON that says "redacted": true). Its secret fields hold Redacted, not the
// secrets, so it can be shown but not used to pull: adapters refuse it with ErrRedacted.
// A real password that happens to read "REDACTED" is not a redacted view.
func (r Registry) IsRedacted() bool { return r.redacted }

// Clone returns a deep copy (the Fields map and the Mirror are not shared).
func (r Registry) Clone() Registry {
	out := r
	if r.Mirror != nil {
		m := *r.Mirror
		out.Mirror = &m
	}
	if r.Fields != nil {
		out.Fields = make(map[string]string, len(r.Fields))
		for k, v := range r.Fields {
			out.Fields[k] = v
		}
	}
	out.Scope = r.Scope.Clone()
	return out
}

// String describes the record without secrets.
func (r Registry) String() string {
	return fmt.Sprintf("registry %q (%s, %s)", r.Name, r.Kind, r.DisplayServer())
}

// displayServer is the server as every display shows it: parsed when it parses, else as
// typed with any user info replaced (RedactServer), bounded and escaped.
func (r Registry) DisplayServer() string {
	if s, err := r.ServerInfo(); err == nil {
		return s.String()
	}
	return untrusted.Text(RedactServer(r.Server))
}

// RedactServer returns a server string as typed with its user info, if any, replaced by
// Redacted: "https://robot:pw@host/x" gives "https://REDACTED@host/x". Everything before
// the last "@" after the scheme counts as user info (a password may hold "/" or "@").
// ParseServer refuses user info; this is for showing a record that holds it anyway.
func RedactServer(raw string) string {
	at := strings.LastIndexByte(raw, '@')
	if at < 0 {
		return raw
	}
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 && i < at {
		start = i + 3
	}
	return raw[:start] + Redacted + raw[at:]
}

// GoString prints the redacted record for %#v.
func (r Registry) GoString() string {
	type plain Registry // no methods: prints the fields
	return fmt.Sprintf("%#v", plain(r.Redacted()))
}

// Format redacts under every verb: %v and %s print String, %+v and %#v print the redacted
// fields.
func (r Registry) Format(f fmt.State, verb rune) {
	type plain Registry
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, r.GoString())
	case verb == 'v' && f.Flag('+'):
		red := r.Redacted() // %+v prints strings raw: escape the user-typed ones
		red.Name, red.Server = untrusted.Text(red.Name), untrusted.Text(red.Server)
		fmt.Fprintf(f, "%+v", plain(red))
	default:
		io.WriteString(f, r.String())
	}
}

// LogValue is what slog logs: identity and redacted fields.
func (r Registry) LogValue() slog.Value {
	red := r.Redacted()
	attrs := []slog.Attr{
		slog.String("id", r.ID), slog.String("name", r.Name), slog.String("kind", string(r.Kind)),
		slog.String("server", r.DisplayServer()), slog.Int64("version", r.Version),
	}
	keys := make([]string, 0, len(red.Fields))
	for k := range red.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		attrs = append(attrs, slog.String(k, red.Fields[k]))
	}
	return slog.GroupValue(attrs...)
}

var (
	_ fmt.Formatter  = Registry{}
	_ slog.LogValuer = Registry{}
)
