// Package storetest is the conformance suite of registry.Store: every Store (the
// MemoryStore, the FileStore, the SQL stores, the sealed wrapper, a platform's own) runs
// it from its tests and so agrees with the others on what the Catalog relies on.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) registry.Store { return mystore.Open(t.TempDir()) },
//			storetest.WithReopen(func(t *testing.T, s registry.Store) registry.Store {
//				return mystore.Open(s.(*mystore.Store).Dir()) // a second handle on the same data
//			}))
//	}
//
// The suite checks the version rules of Store (create, replace, stale and duplicate
// writes refused with ErrConflict, ErrNotFound), that records round-trip exactly (every
// field, secrets included, times to the nanosecond, a record of several MiB), that Get and
// List return copies, List's order (by ID, byte-wise), the refusal of redacted views
// (ErrRedacted), writers racing on one record from several goroutines and handles (no
// lost update, exactly one creator), and a cancelled context (an error wrapping
// context.Canceled, nothing written).
//
// The optional interfaces are checked too, and required unless the caller declares the
// store without them (Without(Watch), Without(Rewrite), Without(Health), Without(Reopen)
// for a store with no second handle); a declared absence is itself checked, and nothing
// is ever skipped, so a wrapper store that stops forwarding an interface fails the suite:
// registry.Watcher (every committed change arrives in commit order, from this handle and
// from another handle on the same data; nothing from before Watch; failed writes publish
// nothing; a consumer that falls behind never blocks writers and gets a ChangeResync in
// place of what it missed; the channel closes when the context ends),
// registry.HealthStore (no version bump, no change on the feed, dropped with the record,
// kept by Put and Rewrite, atomic updates) and registry.Rewriter (same version, no change
// on the feed, the version rule).
//
// Each subtest gets a fresh store from the factory; the store must start empty.
package storetest
