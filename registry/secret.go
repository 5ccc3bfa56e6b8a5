package registry

import (
	"fmt"
	"io"
	"log/slog"
)

// Redacted is what every secret prints as.
const Redacted = "REDACTED"

// Secret is a string that never prints: fmt (every verb, %#v included), slog and
// encoding.TextMarshaler all show Redacted. Use Reveal to read the value. JSON encoding keeps
// the real value on purpose (stores and docker configs need it); use Registry.Redacted for
// views that leave the process.
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

// LogValue redacts for slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

var (
	_ fmt.Formatter  = Secret("")
	_ slog.LogValuer = Secret("")
	_ fmt.GoStringer = Secret("")
)
