// Package conntest is the connection test: it runs a saved or draft registry record through
// ordered steps (fields, DNS, TCP, TLS, GET /v2/, authentication, optionally an image and
// a push) and classifies each failure as an *Error whose Kind is one of registry's sentinels
// (ErrDNS, ErrTLSUnknownAuthority, ErrUnauthorized, ...), with a plain-language cause and a
// fix. Report renders as a checklist, as JSON, and says which step failed.
//
// Rules:
//   - It uses the record's guarded transport (registry/transport), so a test reaches the
//     registry exactly as a pull would, and sends credentials only where a pull would.
//   - A report never holds a secret, in any encoding a server may echo it in: the record's
//     secret fields, the provider's credentials and the tokens issued are removed raw, as
//     base64 of user:password (the Basic header's value), as the bearer token, form- and
//     path-encoded, JSON-escaped and in base64 (internal/redact). Every answer is scrubbed
//     before the test reads it (status line, headers, the body of a non-success), the
//     transport scrubs a reason phrase before bounding it, and the report is scrubbed
//     again before it is returned; untrusted text is bounded and escaped.
//   - Handshake is the TLS check for clients regcred does not drive (the Docker daemon).
//   - catalog.Catalog.Test and TestDraft run it on saved records and drafts.
package conntest
