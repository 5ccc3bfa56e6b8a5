package row

import (
	"fmt"

	"github.com/regcred/regcred/registry"
)

// Encode applies the part of the registry.Store write rules that needs no stored record
// (an ID, not a redacted view, a saved version) and returns the record's stored form.
func Encode(op string, r registry.Registry) ([]byte, error) {
	switch {
	case r.ID == "":
		return nil, &registry.Error{Op: op, Registry: r.Name, Err: &registry.FieldError{Field: "id", Reason: "is empty"}}
	case r.IsRedacted():
		return nil, &registry.Error{Op: op, Registry: r.ID, Err: registry.ErrRedacted}
	case r.Version < 1:
		return nil, &registry.Error{Op: op, Registry: r.ID, Err: fmt.Errorf("version %d is not a saved version (1 creates): %w", r.Version, registry.ErrInvalid)}
	}
	return registry.MarshalStored(r)
}

// Missed explains a write of id that matched no row, given the version stored now (found
// false when there is no row): want is the version the write expected, 0 for a create.
func Missed(op, id string, want, stored int64, found bool) error {
	switch {
	case !found:
		return &registry.Error{Op: op, Registry: id, Err: registry.ErrNotFound}
	case want == 0:
		return &registry.Error{Op: op, Registry: id, Err: fmt.Errorf("a registry with this id exists already (version %d): %w", stored, registry.ErrConflict)}
	default:
		return &registry.Error{Op: op, Registry: id, Err: fmt.Errorf("stored version is %d, the write expects %d (reload and retry): %w", stored, want, registry.ErrConflict)}
	}
}

// MissedDelete explains a delete of id at version that matched no row, given the version
// stored now (found false when there is no row).
func MissedDelete(id string, version, stored int64, found bool) error {
	if !found {
		return &registry.Error{Op: "store delete", Registry: id, Err: registry.ErrNotFound}
	}
	return &registry.Error{Op: "store delete", Registry: id, Err: fmt.Errorf("stored version is %d, not %d (reload and retry): %w", stored, version, registry.ErrConflict)}
}
