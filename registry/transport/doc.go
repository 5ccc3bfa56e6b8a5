// Package transport is the HTTP transport under every connection regcred makes to a saved
// registry: the connection test, Keychain pulls, the CLI and the adapters.
//
// Rules:
//   - ForTLS builds the *http.Transport of a record's TLS mode (secure only, custom CA,
//     insecure) with bounded dial, handshake and header sizes; unless the mode is insecure
//     it refuses plain http, so a secure record is never reached over http, not even by
//     go-containerregistry's fallback for loopback and private hosts.
//   - Transport (one per record, handed out by Cache.For and keychain.Keychain.Transport)
//     sends Authorization only to the registry's own host and to the token realms that
//     registry named, under the realm policy of realm.go (no metadata addresses; no
//     loopback, link-local or private realms for a public registry), and strips it from
//     redirects elsewhere.
//   - What the server controls is bounded and escaped: headers, challenges, the bodies read
//     whole, reason phrases. A reason phrase loses the request's own credentials (in any
//     encoding, internal/redact) before it is bounded, so a cut cannot hide part of one.
//   - Cache is keyed by record ID, version and TLS settings; DefaultCache is shared.
package transport
