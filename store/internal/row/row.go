// Package row encodes and decodes what the stores keep of a record: the record's stored
// JSON (registry.MarshalStored, registry.UnmarshalStored) and its health JSON, with the
// errors both stores give, including those of a write that matched no row. It exists so
// store/sqlite and store/postgres read and write their rows one way, and the map-backed
// stores (memory, file) list one way.
package row

import (
	"encoding/json"
	"fmt"

	"github.com/regcred/regcred/registry"
)

// Record decodes the stored record of row id and checks that it is that record.
func Record(id, data string) (registry.Registry, error) {
	r, err := registry.UnmarshalStored([]byte(data))
	if err != nil {
		return registry.Registry{}, &registry.Error{Op: "store read", Registry: id, Err: err}
	}
	if r.ID != id {
		return registry.Registry{}, &registry.Error{Op: "store read", Registry: id, Err: fmt.Errorf("the stored record says id %q: %w", r.ID, registry.ErrInvalid)}
	}
	return r, nil
}

// Health decodes the stored health of row id; "" (no health yet) is the zero Health.
func Health(id, data string) (registry.Health, error) {
	var h registry.Health
	if data == "" {
		return h, nil
	}
	if err := json.Unmarshal([]byte(data), &h); err != nil {
		return registry.Health{}, &registry.Error{Op: "store health", Registry: id, Err: fmt.Errorf("the stored health is not readable (%v): %w", err, registry.ErrInvalid)}
	}
	return h, nil
}
