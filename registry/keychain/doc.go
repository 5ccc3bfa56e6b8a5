// Package keychain maps an image reference to the saved registry that serves it and to that
// registry's credentials. Keychain implements go-containerregistry's authn.Keychain (and
// its context-aware form), so remote.WithAuthFromKeychain pulls with it, and hands out the
// registry's guarded transport (Keychain.Transport).
//
// Rules:
//   - References are parsed without network, with docker/distribution's grammar (ref.go);
//     Docker Hub's aliases fold into docker.io (registry.CanonicalHost, the one canonical
//     form).
//   - Matching: the longest saved path prefix on the exact host wins, then the most
//     specific wildcard host ("*.azurecr.io"); a host nobody saved resolves anonymous.
//   - The order is explicit. The more specific server wins (a longer path, an exact host
//     over a wildcard, a wildcard with more literal labels). At equal specificity (the same
//     server twice) a record with credentials wins over an anonymous one (a Public
//     docker.io entry never takes Docker Hub pulls away from saved credentials), then the
//     default, then the first given. Shadows lists who passes over whom and why, for a
//     console to warn at save; the Keychain logs it at debug level when it builds.
//   - The index is built once in New; lookups do not allocate. Providers are made by the
//     factory (WithProviderFactory) and fetch lazily, when a pull asks.
//   - A Keychain is a snapshot; build another when the records change (catalog.Catalog
//     does that for you). Safe for concurrent use.
package keychain
