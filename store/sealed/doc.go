// Package sealed keeps the secret fields of saved registries encrypted at rest, over any
// registry.Store (store/sqlite, store/postgres, the FileStore, a platform's own).
//
// Rules:
//   - Envelope encryption with the standard library: every secret field (Registry.
//     IsSecretField) gets a fresh 32-byte data key; AES-256-GCM seals the value with it,
//     and the KeyProvider wraps the data key with a master key. The stored value reads
//     "regcred:sealed:v1:KEYID:WRAPPED:CIPHERTEXT": the key ID is on every ciphertext.
//     Public fields (server, username, TLS CA) stay readable for the platform's queries.
//   - The record ID and the field name are additional data of both seals: a ciphertext
//     copied to another record or field does not open (ErrDecrypt).
//   - Master keys are 32 random bytes in a key file or an environment variable
//     ("ID=BASE64" per line or comma; the first is current), read by KeysFromFile and
//     KeysFromEnv into a Keyring. KeyProvider is the small interface a KMS implements
//     instead (wrap = its Encrypt, unwrap = its Decrypt); opened data keys are cached, so
//     a KMS is asked once per value, not on every read.
//   - A value sealed with a key this process does not have is an error naming the key
//     (ErrUnknownKey), never an empty secret.
//   - Replicas must share the keys: the store keeps a key-check record (KeyCheckID,
//     hidden by this package) with a check value sealed under every key in use. New
//     refuses to start (ErrKeyMismatch) when none of its keys is the store's, or when a
//     key has the store's ID but other bytes, so a replica with another key file never
//     writes records the others cannot open.
//   - Rotation without downtime: add the new key to every replica's key file after the
//     current one, then move it first (every replica now seals with it and still opens the
//     old), then run Reseal (or regcred reseal) once: it seals every record again under
//     the new key through registry.Rewriter, at the same version and without a change on
//     the feed, so no cache is flushed; then the old key can go.
//   - A redacted listing opens nothing (ListRedacted, which Catalog.List uses): a redacted
//     view shows no secret, so it is made from the sealed record as stored. Over
//     store/sqlite and store/postgres the views are kept by record version (Versions, and
//     SQLite's ChangeCount first), so listing 1,000 unchanged records reads one counter.
//   - The change log (registry.Journal) passes through: a record is sealed, then written
//     with its audit entry in the inner store's transaction.
//   - Records written before the store was sealed (plaintext) are read as they are and
//     sealed by the next Put or Reseal.
package sealed
