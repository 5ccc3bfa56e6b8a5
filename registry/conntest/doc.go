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
//   - A report has one of three outcomes for a user (Report.Outcome): passed, failed, or
//     not tested. A test that could not try the credentials against the registry (a
//     wildcard server such as Amazon ECR's without an image, a token registry whose token
//     source this process cannot reach: registry.ErrNoProvider) is "not tested", never
//     "passed": Report.Tested is false, String reads NOT TESTED, the JSON carries
//     "outcome": "not tested", and Report.Untested is the step whose Cause and Fix say
//     what the user can do. OK only means nothing failed. Every Detail, Cause and Fix is in
//     the user's words ("enter an image this registry holds ..."), never Go API names; the
//     developer's reason stays in Step.Err.
//   - Handshake is the TLS check for clients regcred does not drive (the Docker daemon).
//   - catalog.Catalog.Test and TestDraft run it on saved records and drafts.
package conntest
