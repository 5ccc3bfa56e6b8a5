// Package catalog is the Catalog of saved registries over a registry.Store: add, update
// (with registry.Merge's rules for a settings form), rotate, set the default, delete with
// guards (owner, usage), list redacted, test saved records and drafts (registry/conntest),
// and one cached provider per record version for every consumer (Provider,
// ProviderFactory, Keychain). Subscribe delivers change events from the store's change
// feed; health and consumers are recorded beside the records.
//
// Rules:
//   - Everything it returns is redacted, except through Reveal (for export) and the
//     providers (for pulls): deployments use ProviderFactory, never Reveal.
//   - Writes are optimistic: an edit made from an older version fails with ErrConflict.
//   - A Catalog is safe for concurrent use; Close stops its change feed.
package catalog
