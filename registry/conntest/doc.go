// Package conntest is the connection test: it runs a saved or draft registry record through
// ordered steps (fields, DNS, TCP, TLS, GET /v2/, authentication, optionally an image and
// a push) and classifies each failure as an *Error whose Kind is one of registry's sentinels
// (ErrDNS, ErrTLSUnknownAuthority, ErrUnauthorized, ...), with a plain-language cause and a
// fix. Report renders as a checklist, as JSON, and says which step failed.
//
// Rules:
//   - It uses the record's guarded transport (registry/transport), so a test reaches the
//     registry exactly as a pull would, and sends credentials only where a pull would.
//   - A report never holds a secret: the credentials, and anything a server echoes back,
//     are removed before it is returned; untrusted text is bounded and escaped.
//   - Handshake is the TLS check for clients regcred does not drive (the Docker daemon).
//   - catalog.Catalog.Test and TestDraft run it on saved records and drafts.
package conntest
