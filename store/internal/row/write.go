package row

import (
	"fmt"

	"github.com/regcred/regcred/registry"
)

// Encode applies the write rules that need no stored record (registry.CheckWrite) and
// returns the record's stored form.
func Encode(op string, r registry.Registry) ([]byte, error) {
	if err := registry.CheckWrite(op, r); err != nil {
		return nil, err
	}
	return registry.MarshalStored(r)
}

// Missed explains a put or rewrite (op) of id that matched no row, by the rules of
// registry.CheckPut and CheckRewrite, given the version stored now (found false when there
// is no row): want is the version the write expected stored, 0 for a create.
func Missed(op, id string, want, stored int64, found bool) error {
	var err error
	if op == "store rewrite" {
		err = registry.CheckRewrite(registry.Registry{ID: id, Version: want}, registry.Registry{Version: stored}, found)
	} else {
		err = registry.CheckPut(registry.Registry{ID: id, Version: want + 1}, registry.Registry{Version: stored}, found)
	}
	if err == nil { // the row changed between the write and this read: a conflict all the same
		err = &registry.Error{Op: op, Registry: id, Err: fmt.Errorf("the record changed during the write (reload and retry): %w", registry.ErrConflict)}
	}
	return err
}

// MissedDelete explains a delete of id at version that matched no row, by the rules of
// registry.CheckDelete, given the version stored now (found false when there is no row).
func MissedDelete(id string, version, stored int64, found bool) error {
	if err := registry.CheckDelete(id, version, registry.Registry{Version: stored}, found); err != nil {
		return err
	}
	return &registry.Error{Op: "store delete", Registry: id, Err: fmt.Errorf("the record changed during the delete (reload and retry): %w", registry.ErrConflict)}
}
