// Package redact removes credentials from text a server sent back: each secret in every
// encoding a server may echo it in. The guarded transport (registry/transport) scrubs a
// reason phrase of the request's own Authorization before it bounds it, and the connection
// test (registry/conntest) scrubs every response and its report with every secret it used.
//
// Rules:
//   - A secret is removed raw and as JSON escapes it, as a form (url.QueryEscape) and a path
//     (url.PathEscape) encode it, and in base64 (standard and URL alphabets, padded or
//     not). A username and password are also removed as base64 of "user:password", the
//     value of a Basic Authorization header; a bearer token is removed as itself, which
//     covers "Bearer <token>".
//   - Texts shorter than 3 bytes are not secrets to remove (they would redact ordinary
//     words); the longest texts are replaced first, so no part of a longer form survives a
//     shorter one.
//   - Each is replaced by registry.Redacted ("REDACTED"); the package does not import
//     registry, so the caller passes the mark.
package redact
