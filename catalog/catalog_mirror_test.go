package catalog_test

import (
	"context"
	"errors"
	"testing"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

// The Catalog checks mirror relations across records: a mirror of an unknown registry
// or a loop is refused at Add and Update, and an upstream that a mirror names by ID cannot
// be deleted while the mirror is there.
func TestCatalogMirrors(t *testing.T) {
	ctx := context.Background()
	cat := catalog.New(memory.New())
	defer cat.Close()
	custom := func(name, server string, m *registry.Mirror) registry.Registry {
		return registry.Registry{Name: name, Kind: registry.KindCustom, Server: server, Mirror: m}
	}
	up, err := cat.Add(ctx, custom("upstream", "registry.internal:5000", nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.Add(ctx, custom("lost", "cache0.internal", &registry.Mirror{Of: "reg-nowhere"})); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("a mirror of an unknown registry: %v, want ErrInvalid", err)
	}
	m, err := cat.Add(ctx, custom("cache", "cache.internal", &registry.Mirror{Of: up.ID}))
	if err != nil {
		t.Fatal(err)
	}
	loop := up
	loop.Mirror = &registry.Mirror{Of: m.ID}
	if _, err := cat.Update(ctx, loop); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("an update that closes a loop of mirrors: %v, want ErrInvalid", err)
	}
	var inUse *catalog.InUseError
	if err := cat.Delete(ctx, up.ID); !errors.As(err, &inUse) || len(inUse.Refs) != 1 || inUse.Refs[0] != "mirror cache" {
		t.Fatalf("deleting an upstream its mirror names: %v, want in use by mirror cache", err)
	}
	if err := cat.Delete(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if err := cat.Delete(ctx, up.ID); err != nil {
		t.Fatalf("deleting the upstream once its mirror is gone: %v", err)
	}
}
