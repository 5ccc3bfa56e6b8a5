package registry

import (
	"context"
	"fmt"
)

// Store keeps saved registries with their real secret values. The Catalog is the API on
// top; a platform implements Store over its own database.
//
// Writes use optimistic concurrency on Registry.Version: Put of a record with Version v
// succeeds only when the stored record has version v-1, and Version 1 creates a record
// that must not exist yet. A stale or duplicate write fails with ErrConflict; Put of
// v > 1 and Delete of a record that does not exist fail with ErrNotFound, as does Get.
// Implementations are safe for concurrent use and return copies the caller may modify.
// Put refuses a redacted view (ErrRedacted); stores that serialize records use
// MarshalStored and UnmarshalStored, the codec that keeps the real secret values.
//
// A Store may also implement the optional interfaces: Watcher (the change feed, so every
// Catalog on the same data sees changes without Invalidate), HealthStore (health beside
// the record, never bumping its version) and Rewriter (a new stored form at the same
// version, for re-sealing). store/storetest is the conformance suite every Store runs.
type Store interface {
	// Get returns the record with the given ID, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id string) (Registry, error)
	// List returns every record, sorted by ID.
	List(ctx context.Context) ([]Registry, error)
	// Put creates (Version 1) or replaces (Version = stored+1) a record.
	Put(ctx context.Context, r Registry) error
	// Delete removes the record if its stored version is version; version 0 skips the
	// check.
	Delete(ctx context.Context, id string, version int64) error
}

// The write rules every Store applies, in one place so the built-in stores, the SQL stores
// and a platform's own store agree (store/storetest checks them). A store that reads the
// stored record first (memory, file) calls CheckPut, CheckDelete or CheckRewrite before it
// writes; a store that writes optimistically (UPDATE ... WHERE version = ?) calls
// CheckWrite before and, when no row matched, the same Check function with the version it
// finds stored now, to say why.

// CheckWrite applies the rules that need no stored record: an ID, a real (not redacted)
// record, a saved version (1 creates).
func CheckWrite(op string, r Registry) error {
	switch {
	case r.ID == "":
		return &Error{Op: op, Registry: r.Name, Err: &FieldError{Field: "id", Reason: "is empty"}}
	case r.IsRedacted():
		return &Error{Op: op, Registry: r.ID, Err: ErrRedacted}
	case r.Version < 1:
		return &Error{Op: op, Registry: r.ID, Err: fmt.Errorf("version %d is not a saved version (1 creates): %w", r.Version, ErrInvalid)}
	}
	return nil
}

// CheckPut applies the rules of Store.Put given the stored record (ok false when there is
// none).
func CheckPut(r Registry, cur Registry, ok bool) error {
	if err := CheckWrite("store put", r); err != nil {
		return err
	}
	switch {
	case r.Version == 1 && ok:
		return &Error{Op: "store put", Registry: r.ID, Err: fmt.Errorf("a registry with this id exists already (version %d): %w", cur.Version, ErrConflict)}
	case r.Version > 1 && !ok:
		return &Error{Op: "store put", Registry: r.ID, Err: ErrNotFound}
	case r.Version > 1 && cur.Version != r.Version-1:
		return &Error{Op: "store put", Registry: r.ID, Err: &VersionError{Stored: cur.Version, Expected: r.Version - 1}}
	}
	return nil
}

// CheckDelete applies the rules of Store.Delete given the stored record.
func CheckDelete(id string, version int64, cur Registry, ok bool) error {
	switch {
	case !ok:
		return &Error{Op: "store delete", Registry: id, Err: ErrNotFound}
	case version != 0 && cur.Version != version:
		return &Error{Op: "store delete", Registry: id, Err: &VersionError{Stored: cur.Version, Expected: version}}
	}
	return nil
}

// VersionError is the conflict of a write that expected another stored version: someone
// else saved in between; reload and retry. errors.Is(err, ErrConflict) holds.
type VersionError struct {
	Stored, Expected int64
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("stored version is %d, the write expects %d (reload and retry): %v", e.Stored, e.Expected, ErrConflict)
}

// Is makes errors.Is(err, ErrConflict) hold.
func (e *VersionError) Is(target error) bool { return target == ErrConflict }

// NotFound is the error of op on a record id that is not stored.
func NotFound(op, id string) error { return &Error{Op: op, Registry: id, Err: ErrNotFound} }
