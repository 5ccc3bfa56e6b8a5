// Package registry is regcred's core: the saved registry record (Registry) with its kind and
// field schema (Kind, Field), the credentials a pull uses (Credentials), the Provider seam
// that token sources implement, the Keychain that maps an image reference to a saved
// registry, the Catalog of saved registries over a Store, the connection test, TLS modes and
// the errors.
//
// Rules:
//   - It imports the standard library and go-containerregistry only: no Kubernetes, Docker
//     Engine or cloud SDK (a test guards that). Token providers live under providers/.
//   - Secrets never print. Secret, Credentials and Registry redact under String, every fmt
//     verb (%v, %+v, %#v), slog (LogValue), encoding/json (MarshalJSON: nested values stay
//     redacted) and in error texts; a server URL's user info reads REDACTED wherever a
//     record is shown. Registry.Redacted is the view to send anywhere; it is marked
//     (IsRedacted) and every adapter refuses it with ErrRedacted. Stores use
//     MarshalStored/UnmarshalStored, the one codec that reveals.
//   - Validation (Registry.Validate) returns every problem at once as a *ValidationError
//     of *FieldError, each naming its input as the form schema does (FormSchema,
//     Kind.Schema), saying what is wrong and what to do, and never quoting the value of a
//     credential field; errors.Is(err, ErrInvalid) holds. Other failures are
//     *Error{Op, Registry, Err} wrapping one of the sentinels.
//   - Zero Credentials.ExpiresAt means the credentials never expire.
//   - One Transport per registry and TLS mode (DefaultTransports.For): the connection
//     test, Keychain.Transport for pulls and the CLI all use it, so "custom CA" or
//     "insecure" means the same thing everywhere.
//   - Credentials only over TLS and only to their own host (transport.go, realm.go): a
//     record's Transport refuses plain http unless its TLS mode is insecure, sends
//     Authorization only to the registry and to a token realm it named, and refuses a
//     realm on another host that resolves to a cloud metadata address, or to loopback,
//     link-local or private addresses when the registry itself is not on that same kind
//     of address; the connection test applies the same rule and warns about a realm on
//     another host.
//   - Test (conntest.go) runs the connection test as ordered steps (fields, DNS, TCP, TLS,
//     GET /v2/, authentication, optionally image and push) and classifies each failure as
//     a *ConnError with a sentinel (ErrDNS, ErrTLSUnknownAuthority, ErrUnauthorized, ...),
//     a plain-language cause and a fix. Catalog.Test runs it on a saved record by ID.
package registry
