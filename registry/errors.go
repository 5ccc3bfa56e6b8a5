package registry

import (
	"errors"
	"fmt"
)

// Sentinel errors. Test for them with errors.Is; every error the library returns wraps one of
// these or a lower-level cause. Only ErrNotFound falls through a chain of lookups; every
// other error surfaces to the caller.
var (
	// ErrNotFound: no registry, credential or entry matches.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: a registry record or one of its fields is malformed.
	ErrInvalid = errors.New("invalid")
	// ErrUnauthorized: the registry or token endpoint refused the credentials (HTTP 401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the credentials are valid but lack a permission or scope (HTTP 403).
	ErrForbidden = errors.New("forbidden")
	// ErrExpired: a credential or token is past its expiry.
	ErrExpired = errors.New("expired")
	// ErrConflict: a write carried a stale version (optimistic concurrency) or collides with
	// something regcred does not own.
	ErrConflict = errors.New("conflict")
	// ErrInUse: a registry cannot be deleted while deployments reference it.
	ErrInUse = errors.New("in use")
	// ErrNotOwner: only the user who created a registry may delete it.
	ErrNotOwner = errors.New("not the owner")
	// ErrRedacted: a redacted view of a record (Catalog.Get and List, Registry.Redacted,
	// json.Marshal of a Registry) was given where its real credentials are needed: saving
	// it, or building a pull secret, docker config or provider from it. Deployments get
	// credentials through catalog.ProviderFactory (or Catalog.Provider, Keychain), which
	// take the redacted view and resolve it by ID; a Store saves records with
	// MarshalStored, never json.Marshal.
	ErrRedacted = errors.New("redacted record: its secret fields are not the real values (deployments take credentials from catalog.ProviderFactory; stores save with registry.MarshalStored)")
	// ErrUnavailable: a token endpoint or registry could not be reached or answered 5xx.
	ErrUnavailable = errors.New("unavailable")
	// ErrNoProvider: the provider factory cannot make this record's credential provider in
	// this process: a token kind under StaticFactory (build with providers.For), a
	// Kubernetes token registry without a cluster client (providers.WithKubeClient). The
	// record may be fine; the connection test reports it "not tested", not failed.
	ErrNoProvider = errors.New("no credential provider for this registry here")
)

// Error is the one typed error of the library: an operation on a registry failed.
// Its text never contains a secret.
type Error struct {
	Op       string // what was being done: "add", "refresh", "login", ...
	Registry string // the registry's name or server; never a credential
	Err      error  // the cause; wraps one of the sentinels where one applies
}

func (e *Error) Error() string {
	switch {
	case e.Registry == "":
		return e.Op + ": " + e.Err.Error()
	default:
		return fmt.Sprintf("%s %s: %v", e.Op, e.Registry, e.Err)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// FieldError says which field of a registry record is wrong and what to do about it.
// errors.Is(err, ErrInvalid) holds for every FieldError.
type FieldError struct {
	Field  string // the field's schema name, e.g. "region", "url", "serviceAccountKey"
	Reason string // what is wrong, never the secret value itself
	Hint   string // what to do; may be empty
}

func (e *FieldError) Error() string {
	s := "field " + e.Field + ": " + e.Reason
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Connection test failures. Each failed Step carries a *ConnError whose Kind is one of these
// or one of ErrInvalid, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrExpired and
// ErrUnavailable; errors.Is matches the kind, so a platform maps them to its UI.
var (
	// ErrDNS: the registry's host name does not resolve.
	ErrDNS = errors.New("host name does not resolve")
	// ErrConnRefused: nothing listens on the registry's port.
	ErrConnRefused = errors.New("connection refused")
	// ErrTimeout: the registry (or its token service) did not answer in time.
	ErrTimeout = errors.New("timed out")
	// ErrTLSUnknownAuthority: the certificate is signed by a CA the TLS mode does not trust.
	ErrTLSUnknownAuthority = errors.New("certificate signed by unknown authority")
	// ErrTLSNameMismatch: the certificate is valid but not for the host that was dialled.
	ErrTLSNameMismatch = errors.New("certificate is for another name")
	// ErrTLSExpired: the certificate has expired (or is not valid yet).
	ErrTLSExpired = errors.New("certificate expired")
	// ErrTLSHandshake: any other TLS failure (protocol version, cipher, bad certificate).
	ErrTLSHandshake = errors.New("tls handshake failed")
	// ErrHTTPInSecureMode: the registry speaks plain HTTP but the TLS mode requires TLS.
	ErrHTTPInSecureMode = errors.New("http registry in secure-only mode")
	// ErrNotRegistry: the server answers, but not like a registry (GET /v2/ is not 200/401).
	ErrNotRegistry = errors.New("not a registry")
	// ErrRealm: the bearer challenge names a token realm that is malformed or unsafe.
	ErrRealm = errors.New("invalid token realm")
	// ErrRateLimited: the registry answered 429; ConnError.RetryAfter says how long to wait.
	ErrRateLimited = errors.New("rate limited")
)
