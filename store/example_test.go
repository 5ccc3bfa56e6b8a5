package store_test

import (
	"context"
	"fmt"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store"
)

// Open a store from a DSN; a platform imports the drivers it wants (sqlite, postgres).
func ExampleOpen() {
	ctx := context.Background()
	s, err := store.Open(ctx, "memory:")
	if err != nil {
		panic(err)
	}
	defer s.Close()
	c := catalog.New(s)
	r, err := c.Add(ctx, registry.Registry{Name: "Docker Hub mirror", Kind: registry.KindPublic, Server: "mirror.gcr.io"})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Name, r.Version)

	_, err = store.Open(ctx, "sqlite:/var/lib/app/regcred.db")
	fmt.Println(err)
	// Output:
	// Docker Hub mirror 1
	// open store sqlite:: no store driver for this DSN scheme "sqlite" (import _ "github.com/regcred/regcred/store/sqlite" in the program to compile this driver in)
}
