// Package registry is regcred's model: the saved registry record (Registry) with its kind
// and field schema (Kind, Field, FormSchema), the parsed server (Server), mirrors and
// scope, the credentials a pull uses (Credentials), the Provider seam that token sources
// implement, TLS modes, the Store driver contract (Store, Watcher, Rewriter, HealthStore and
// the write rules CheckPut/CheckDelete/CheckRewrite every store applies), the connection
// test's vocabulary (Verdict, StepName) and the errors.
//
// What acts on records lives beside it, one concern a package, as go-containerregistry
// splits name, authn and remote/transport:
//
//	registry/transport  the guarded HTTP transport of one record (TLS mode, Authorization
//	                    only to its own host and realms, bounded responses), ForTLS, Cache
//	registry/keychain   image reference -> saved registry -> credentials (authn.Keychain)
//	registry/conntest   the connection test with per-step diagnosis (Test, Report, Error)
//	catalog             the Catalog of saved registries over a Store: add, update, rotate,
//	                    default, delete guards, events, health, one provider per record
//	store/...           the built-in stores (memory, file, sqlite, postgres, sealed) and
//	                    store/storetest, the conformance suite for any Store
//
// Rules:
//   - It imports the standard library, go-containerregistry's authn and internal helpers
//     only: no Kubernetes, Docker Engine or cloud SDK, and none of its own sub-packages
//     (imports_test.go guards both). Token providers live under providers/.
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
//     *Error{Op, Registry, Err} wrapping one of the sentinels (errors.go: one list, the
//     connection test's kinds included).
//   - Zero Credentials.ExpiresAt means the credentials never expire.
//   - A server is parsed once, where it enters: FromForm, UnmarshalStored, UnmarshalJSON and
//     Registry.ParseServer keep the parsed Server in the record (beside the Server string,
//     which stays as typed), and ServerInfo returns it without parsing again while the
//     string is unchanged; copies keep it. Server.Key (the docker config key),
//     Server.Canonical and Server.Matches are what consumers use instead of re-parsing
//     the string.
//   - Each host rule has one implementation, in internal/hosts, that host.go hands out:
//     Docker Hub's names (docker.io, index.docker.io, registry-1.docker.io; not
//     registry.hub.docker.com, as in Docker), the canonical form (CanonicalHost), the
//     host:port split and the wildcard pattern ("*" is one non-empty DNS label, ports equal).
package registry
