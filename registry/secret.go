package registry

import (
	"encoding"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// Redacted is what every secret prints as.
const Redacted = "REDACTED"

// Secret is a string that never prints: fmt (every verb, %#v included), slog,
// encoding.TextMarshaler and encoding/json all show Redacted (an empty secret shows ""), so
// a Secret nested in any logged or served value stays hidden. Use Reveal to read the value;
// the encoders that must write it (docker configs, X-Registry-Auth, stores) call Reveal
// themselves. Decoding JSON reads the value as it is.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String returns Redacted, or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString redacts for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("registry.Secret(%q)", s.String()) }

// Format redacts under every verb.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, s.GoString())
		return
	}
	io.WriteString(f, s.String())
}

// MarshalJSON writes the redacted view: "REDACTED", or "" for an empty secret.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText redacts for text encoders (YAML, TOML, flags). encoding/json writes a map
// key of a string type as it is: never key a map by a Secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue redacts for slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

var (
	_ fmt.Formatter          = Secret("")
	_ slog.LogValuer         = Secret("")
	_ fmt.GoStringer         = Secret("")
	_ json.Marshaler         = Secret("")
	_ encoding.TextMarshaler = Secret("")
)
