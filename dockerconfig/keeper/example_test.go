package keeper_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/dockerconfig/keeper"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

// A docker host without credential helpers: keep $DOCKER_CONFIG/config.json fresh (call
// Run instead of Reconcile to follow rotations and token expiry).
func ExampleKeeper() {
	ctx := context.Background()
	cat := catalog.New(memory.New())
	if _, err := cat.Add(ctx, registry.Registry{Name: "acme", Kind: registry.KindCustom, Server: "registry.acme.example",
		Fields: map[string]string{"username": "bot", "password": "s3cret"}}); err != nil {
		fmt.Println(err)
		return
	}
	dir, _ := os.MkdirTemp("", "docker-config-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "config.json")
	d := keeper.New(cat, path)
	wrote, err := d.Reconcile(ctx)
	fmt.Println(wrote, err)
	wrote, err = d.Reconcile(ctx)
	fmt.Println(wrote, err)
	cfg, _ := dockerconfig.Load(path)
	fi, _ := os.Stat(path)
	fmt.Println(cfg.Keys(), fi.Mode().Perm())
	// Output:
	// true <nil>
	// false <nil>
	// [registry.acme.example] -rw-------
}
