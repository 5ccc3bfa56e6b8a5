package row_test

import (
	"errors"
	"testing"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/internal/row"
)

func TestRecord(t *testing.T) {
	data, err := registry.MarshalStored(registry.Registry{ID: "a", Name: "a", Kind: registry.KindPublic, Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := row.Record("a", string(data)); err != nil || r.ID != "a" {
		t.Fatalf("Record = %v, %v", r.ID, err)
	}
	if _, err := row.Record("b", string(data)); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("a row holding another record: %v, want ErrInvalid", err)
	}
	if _, err := row.Record("a", "{"); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("a broken row: %v, want ErrInvalid", err)
	}
}

func TestHealth(t *testing.T) {
	if h, err := row.Health("a", ""); err != nil || h.Test != nil || h.Token != nil {
		t.Fatalf("no health: %+v, %v", h, err)
	}
	if _, err := row.Health("a", "not json"); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("broken health: %v, want ErrInvalid", err)
	}
	h, err := row.Health("a", `{"consumers":[{"kind":"namespace","name":"prod"}]}`)
	if err != nil || len(h.Consumers) != 1 || h.Consumers[0].Name != "prod" {
		t.Fatalf("Health = %+v, %v", h, err)
	}
}
