package registry

import "context"

// RedactedLister is the optional short path of a redacted listing: ListRedacted returns
// every record's redacted view (Registry.Redacted), sorted by ID, without revealing a
// secret on the way. store/sealed implements it without opening a sealed value, from a
// cache of views by version; Catalog.List uses it when the Store has it.
type RedactedLister interface {
	ListRedacted(ctx context.Context) ([]Registry, error)
}

// VersionLister is the optional cheap listing of a Store: the version of every record by
// ID, without reading the records. A wrapper that caches what it derives from records by
// version (store/sealed's redacted views) asks it to know what changed.
type VersionLister interface {
	Versions(ctx context.Context) (map[string]int64, error)
}

// ChangeCounter is the optional change counter of a Store: ChangeCount grows with every
// committed put of a new version and every delete (made through any handle), and stays
// put otherwise. A wrapper that caches by version (store/sealed's redacted views) asks it
// first: an unchanged count means nothing changed.
type ChangeCounter interface {
	ChangeCount(ctx context.Context) (uint64, error)
}
