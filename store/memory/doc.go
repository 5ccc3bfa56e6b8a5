// Package memory is the in-memory registry.Store: for tests, demos and single-process
// platforms that persist elsewhere. It implements the optional Watcher, Rewriter and
// HealthStore interfaces and passes store/storetest. Safe for concurrent use; it returns
// copies, so callers never share a record's maps.
package memory
