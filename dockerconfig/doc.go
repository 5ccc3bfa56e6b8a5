// Package dockerconfig models Docker's config.json and Kubernetes' .dockerconfigjson (and
// reads the legacy .dockercfg): decode, deterministic encode, the key rules, lookups
// through credential helpers, atomic file writes, and building a config from saved
// registries.
//
// Data flows one way: registry -> dockerconfig. This package imports registry (for
// Credentials, Secret, Registry, the providers' seam and the errors) and
// docker-credential-helpers' client; it imports no Kubernetes, Docker Engine or cloud SDK
// (a test guards that). kube and compose build on it.
//
// # Decoding (Decode, Parse, Load)
//
//   - A document with "auths", "credHelpers" or "credsStore" is a config.json. Otherwise a
//     flat map whose every value is an object with an entry field (auth, username,
//     password, email, identitytoken, registrytoken) is a legacy .dockercfg. Anything else
//     is a config.json without auths. Empty input or null is an empty config.
//   - Other top-level keys land in Config.Extra, compacted, and Encode writes them back.
//     Top-level names are case-sensitive; entry field names are not (encoding/json, like
//     docker). Unknown entry fields ("serveraddress") are dropped.
//   - "auth" is standard base64 of username:password, padded or not (docker/cli accepts
//     only padded; the kubelet accepts both; so do we). The URL-safe alphabet is refused,
//     as docker refuses it, with an error that says so.
//   - It splits at the FIRST colon: the password may contain colons, the username may not.
//     An empty username or a missing colon is an error (docker refuses them too).
//   - When an entry has both "auth" and username/password, "auth" wins and the fields are
//     ignored, as in docker/cli (LoadFromReader) and the kubelet.
//   - NUL bytes around the password are dropped (docker/cli does it for "auth"; we do it
//     for the password field too, so every decoded config round-trips).
//   - A username of "<token>" (TokenUsername) means the password is an identity token,
//     the convention of docker/cli's credential helper store: the entry gets
//     IdentityToken and no username or password (an explicit "identitytoken" wins).
//   - Errors are *FormatError: they name the entry key and field and say what is wrong
//     (not JSON, wrong JSON type, bad base64, no colon) and never quote a value.
//
// Every successful Decode encodes, and the encoding decodes to an equal Config
// (FuzzDecode checks it).
//
// # Encoding (Marshal, Encode, WriteFile)
//
// Compact JSON, byte-identical for equal configs, so a hash of it is stable: keys sorted at
// every level, entry fields in kubectl's order (username, password, email, auth), then
// identitytoken and registrytoken. Strings are escaped as encoding/json escapes them: a
// plain config is byte for byte what `kubectl create secret docker-registry` writes.
// WriteFile is atomic (temporary file, fsync, rename), mode 0600, parent directory 0700.
//
// # Keys and lookups (Key, Lookup, Get, Helper)
//
// Key normalises a server string: Docker Hub's names (docker.io, index.docker.io,
// registry-1.docker.io: the one alias table, internal/hosts) become HubKey
// "https://index.docker.io/v1/"; anything else host[:port] lowercased without scheme,
// slashes or API version, keeping a repository path. It is the one docker-key rule:
// swarm.ServerAddress is Key, and a parsed registry.Server gives the same key without
// re-parsing (Server.Key), which FromRegistries uses. Lookup finds entries stored under every form docker accepts
// ("https://host", "http://host/", "host/v2/") and lets a host entry serve its paths,
// never the reverse. Get asks the credential helper first (CredHelpers[host], else
// CredsStore), then the inline entry; not found wraps registry.ErrNotFound. Helpers run
// through docker-credential-helpers' client with a program bound to ctx (cancelling kills
// it) whose stderr is captured for the error, never printed; a helper name that is not a
// plain program name is refused.
//
// # Building from registries (FromRegistries)
//
// One entry per registry, through its provider, with the earliest expiry. Wildcard servers
// need WithHost, because a docker config key is never a pattern.
//
// # Secrets
//
// Config and AuthEntry redact under String, every fmt verb, slog and json.Marshal
// (MarshalJSON is a redacted view, so a Config inside a logged struct stays safe); error
// texts never carry a credential. Marshal, Encode and WriteFile write the real values:
// that is their job.
package dockerconfig
