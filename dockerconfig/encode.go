package dockerconfig

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/regcred/regcred/registry"
)

// Marshal returns the config as compact JSON, byte-identical for equal configs: top-level
// keys sorted ("auths" always present, "credHelpers" and "credsStore" when set, Extra
// keys), auths keys sorted, and each entry's fields in the order kubectl writes them:
// username, password, email, auth (standard padded base64 of username:password, written
// when there is a username), then identitytoken and registrytoken when set. Strings are
// escaped exactly as encoding/json escapes them, so a credentials-only config is
// byte-identical to what `kubectl create secret docker-registry` stores.
//
// It fails with a *FormatError for an entry whose username contains a colon (basic auth
// cannot carry it), for an Extra key named auths, credHelpers or credsStore, and for an
// Extra value that is not JSON.
func (c *Config) Marshal() ([]byte, error) {
	return c.appendJSON(make([]byte, 0, 64+160*len(c.Auths)), true)
}

// Encode writes Marshal's bytes to w.
func (c *Config) Encode(w io.Writer) error {
	b, err := c.Marshal()
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("dockerconfig: write: %w", err)
	}
	return nil
}

// MarshalJSON is the redacted view: the same shape as Marshal, with every password and
// token reading REDACTED and no "auth". It makes a Config inside a logged struct (slog's
// JSON handler, an API response) safe. Use Marshal, Encode or WriteFile for the real
// document.
func (c Config) MarshalJSON() ([]byte, error) {
	r := c.redacted()
	return r.appendJSON(nil, false)
}

// MarshalJSON is the redacted view of the entry (see Config.MarshalJSON).
func (e AuthEntry) MarshalJSON() ([]byte, error) {
	c := Config{Auths: map[string]AuthEntry{"": e}}
	b, err := c.redacted().appendAuths(nil, false)
	if err != nil {
		return nil, err
	}
	return b[len(`{"":`) : len(b)-1], nil
}

// redacted returns a copy whose secrets read registry.Redacted and whose usernames carry no
// colon, so that it always encodes. Extra is left out: its values are not ours to judge.
func (c Config) redacted() *Config {
	out := &Config{CredHelpers: c.CredHelpers, CredsStore: c.CredsStore, Auths: make(map[string]AuthEntry, len(c.Auths))}
	for k, e := range c.Auths {
		e = normalize(e)
		out.Auths[k] = AuthEntry{
			Username:      strings.ReplaceAll(e.Username, ":", "_"),
			Password:      registry.Secret(e.Password.String()),
			Email:         e.Email,
			IdentityToken: registry.Secret(e.IdentityToken.String()),
			RegistryToken: registry.Secret(e.RegistryToken.String()),
		}
	}
	return out
}

func (c *Config) appendJSON(b []byte, withAuth bool) ([]byte, error) {
	keys := make([]string, 0, 3+len(c.Extra))
	keys = append(keys, "auths")
	if len(c.CredHelpers) > 0 {
		keys = append(keys, "credHelpers")
	}
	if c.CredsStore != "" {
		keys = append(keys, "credsStore")
	}
	for k := range c.Extra {
		switch k {
		case "auths", "credHelpers", "credsStore":
			return nil, &FormatError{Op: "encode", Field: k,
				Reason: "is a key of Extra but a typed field of Config; set the field instead"}
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		switch k {
		case "auths":
			if b, err = c.appendAuths(b, withAuth); err != nil {
				return nil, err
			}
		case "credHelpers":
			b = appendStringMap(b, c.CredHelpers)
		case "credsStore":
			b = appendString(b, c.CredsStore)
		default:
			raw := c.Extra[k]
			if raw == nil {
				b = append(b, "null"...)
				continue
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, raw); err != nil {
				return nil, &FormatError{Op: "encode", Field: k, Reason: "Extra value is not valid JSON"}
			}
			b = append(b, buf.Bytes()...)
		}
	}
	return append(b, '}'), nil
}

func (c *Config) appendAuths(b []byte, withAuth bool) ([]byte, error) {
	keys := c.Keys()
	b = append(b, '{')
	var scratch []byte
	for i, k := range keys {
		e := normalize(c.Auths[k])
		if strings.Contains(e.Username, ":") {
			return nil, &FormatError{Op: "encode", Key: k, Field: "username",
				Reason: "contains a colon, which basic auth cannot carry (RFC 7617)"}
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ":{"...)
		n := 0
		field := func(name, v string) {
			if v == "" {
				return
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = append(b, '"')
			b = append(b, name...)
			b = append(b, `":`...)
			b = appendString(b, v)
		}
		field("username", e.Username)
		field("password", e.Password.Reveal())
		field("email", e.Email)
		if e.Username != "" && withAuth {
			scratch = append(scratch[:0], e.Username...)
			scratch = append(scratch, ':')
			scratch = append(scratch, e.Password...)
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = append(b, `"auth":"`...)
			b = base64.StdEncoding.AppendEncode(b, scratch)
			b = append(b, '"')
		}
		field("identitytoken", e.IdentityToken.Reveal())
		field("registrytoken", e.RegistryToken.Reveal())
		b = append(b, '}')
	}
	clear(scratch)
	return append(b, '}'), nil
}

func appendStringMap(b []byte, m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string escaped the way encoding/json escapes it (HTML
// characters, U+2028/U+2029 and control characters escaped; invalid UTF-8 replaced by
// U+FFFD), so the output matches json.Marshal byte for byte.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
