package registry

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
)

// MergeOption says what an edit means beyond its values: a secret to clear, a default to
// unset. Catalog.Update takes them, and Catalog.TestDraft through WithMerge, so a draft is tested exactly
// as it would be saved.
type MergeOption interface {
	applyMerge(*mergeConfig)
}

type mergeConfig struct {
	clear        []string
	unsetDefault bool
}

type mergeOption func(*mergeConfig)

func (o mergeOption) applyMerge(c *mergeConfig) { o(c) }

// ClearFields clears the named credential fields explicitly. A blank secret field keeps
// the stored secret (a settings form never shows it), so clearing one needs saying: when
// an ECR registry switches from access keys to the node's role, the edit sends
// ClearFields("accessKeyId", "secretAccessKey", "sessionToken") and the record keeps its
// ID and every Secret name derived from it.
func ClearFields(names ...string) MergeOption {
	return mergeOption(func(c *mergeConfig) { c.clear = append(c.clear, names...) })
}

// UnsetDefault makes the edited record stop being the default. Without it, an edit whose
// Default is false keeps the stored flag: a form without the default switch never clears
// the default by omission.
func UnsetDefault() MergeOption {
	return mergeOption(func(c *mergeConfig) { c.unsetDefault = true })
}

// Merge applies edit, as a settings form sends it, to the stored record, and returns the
// record to save (or to test, for a draft). It is the one implementation of the editing
// rules; Catalog.Update and Catalog.TestDraft use it.
//
//   - A new record (stored has no ID) is edit itself; it must carry real values, not a
//     redacted view (ErrRedacted).
//   - ID, Owner, Created and Version are the stored ones.
//   - With the same kind, a secret field left blank keeps its stored value, and so does one
//     that reads Redacted in a redacted view (IsRedacted: the form sent back what it was
//     shown). In a record that is not a redacted view, "REDACTED" is a real password.
//     ClearFields clears fields explicitly. Other fields take the edit's value; blank
//     removes them.
//   - A stored secret is bound to the endpoint it was saved for: the canonical scheme and
//     host:port, the TLS mode and the CA bundle. An edit that changes any of them and
//     keeps a stored secret (blank, or sent back Redacted) is refused with a *FieldError
//     naming the field ("re-enter the password: the server changed"), so a draft cannot
//     send a saved password, token or key to a host its editor chose.
//   - Changing the kind keeps no credential: the edit gives every field of the new kind
//     (a secret sent back as Redacted is an error naming the field).
//   - Default set makes the record the default; unset keeps the stored flag. UnsetDefault
//     clears it, whatever the edit says.
//   - Everything else (name, server, TLS, mirror, scope, credential expiry) is the edit's.
//
// Merge does not validate the result; the caller does (Registry.Validate).
func Merge(stored, edit Registry, opts ...MergeOption) (Registry, error) {
	var cfg mergeConfig
	for _, o := range opts {
		if o != nil {
			o.applyMerge(&cfg)
		}
	}
	return merge(stored, edit, cfg)
}

func merge(stored, edit Registry, cfg mergeConfig) (Registry, error) {
	name := edit.Name
	if stored.ID != "" {
		name = stored.Name
	}
	fail := func(err error) (Registry, error) { return Registry{}, &Error{Op: "edit", Registry: name, Err: err} }
	clear := map[string]bool{}
	for _, f := range cfg.clear {
		if _, ok := edit.Kind.Field(f); !ok && edit.Kind.Valid() {
			return fail(&FieldError{Field: f, Reason: "cannot be cleared: it is not a field of " + edit.Kind.Label(),
				Hint: "known fields: " + strings.Join(edit.Kind.fieldNames(), ", ")})
		}
		clear[f] = true
	}
	next := edit.Clone()
	next.redacted = false
	if next.Fields == nil {
		next.Fields = map[string]string{}
	}
	switch {
	case stored.ID == "":
		if edit.IsRedacted() {
			return fail(fmt.Errorf("%w (a new record needs the real credential values)", ErrRedacted))
		}
		next.Version = 0
	case edit.Kind == stored.Kind:
		moved := movedFrom(stored, next)
		for _, f := range stored.Kind.Fields() {
			if !f.Secret || clear[f.Name] {
				continue
			}
			if v := next.Fields[f.Name]; v == "" || edit.IsRedacted() && v == Redacted {
				if old := stored.Fields[f.Name]; old != "" {
					if moved != "" {
						return fail(&FieldError{Field: f.Name,
							Reason: "re-enter the " + strings.ToLower(f.Label) + ": the " + moved + " changed",
							Hint:   "a saved secret is sent only to the endpoint it was saved for"})
					}
					next.Fields[f.Name] = old
				} else {
					delete(next.Fields, f.Name)
				}
			}
		}
	default:
		if edit.IsRedacted() {
			names := make([]string, 0, len(next.Fields))
			for n, v := range next.Fields {
				if v == Redacted && next.IsSecretField(n) {
					names = append(names, n)
				}
			}
			if len(names) > 0 {
				sort.Strings(names)
				return fail(&FieldError{Field: names[0],
					Reason: "is " + Redacted + " but the type changes from " + stored.Kind.Label() + " to " + next.Kind.Label(),
					Hint:   "give every credential field of the new type"})
			}
		}
	}
	for f := range clear {
		delete(next.Fields, f)
	}
	for n, v := range next.Fields {
		if v == "" {
			delete(next.Fields, n)
		}
	}
	if len(next.Fields) == 0 {
		next.Fields = nil
	}
	if stored.ID != "" {
		next.ID, next.Owner, next.Created, next.Version = stored.ID, stored.Owner, stored.Created, stored.Version
		next.Updated = stored.Updated
		next.Default = edit.Default || stored.Default
	}
	if cfg.unsetDefault {
		next.Default = false
	}
	return next, nil
}

// endpoint is where a stored secret may go: the canonical scheme and host:port, and the
// trust the TLS settings give that connection. A secret saved with one endpoint is bound to
// it (Merge).
type endpoint struct {
	scheme, host string
	mode         TLSMode
	ca           string // the CA bundle, with TLSCustomCA only
	systemRoots  bool   // with TLSCustomCA only
}

// endpointOf returns r's endpoint; an unparsable server is its raw text.
func endpointOf(r Registry) endpoint {
	e := endpoint{mode: r.TLS.EffectiveMode()}
	if e.mode == TLSCustomCA {
		e.ca, e.systemRoots = strings.TrimSpace(r.TLS.CABundle), r.TLS.SystemRoots
	}
	s, err := r.ServerInfo()
	if err != nil {
		e.host = "invalid:" + r.Server
		return e
	}
	e.scheme, e.host = s.Scheme, s.Host
	if e.scheme == "" {
		e.scheme = "https" // what a client tries first, and the only scheme outside insecure mode
	}
	if _, _, err := net.SplitHostPort(e.host); err != nil {
		port := "443"
		if e.scheme == "http" {
			port = "80"
		}
		e.host = net.JoinHostPort(strings.Trim(e.host, "[]"), port)
	}
	return e
}

// movedFrom says what of the endpoint next changed from stored's ("server", "TLS mode", "CA
// bundle"), or "" when it is the same: a secret kept from stored may then go with it. A
// server that does not parse is no endpoint: nothing connects to it, and Validate (or the
// connection test's fields step) names the url field instead.
func movedFrom(stored, next Registry) string {
	if _, err := next.ServerInfo(); err != nil {
		return ""
	}
	a, b := endpointOf(stored), endpointOf(next)
	switch {
	case a.scheme != b.scheme || a.host != b.host:
		return "server"
	case a.mode != b.mode:
		return "TLS mode"
	case a.ca != b.ca || a.systemRoots != b.systemRoots:
		return "CA bundle"
	}
	return ""
}

// secretNames returns the names of r's secret fields that hold a value, sorted.
func SecretNames(r Registry) []string {
	var out []string
	for n, v := range r.Fields {
		if v != "" && r.IsSecretField(n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}
