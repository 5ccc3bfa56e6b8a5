package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/sqlite"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "regcred-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "regcred.db"))
	if err != nil {
		panic(err)
	}
	defer s.Close()
	c := catalog.New(s)
	defer c.Close()
	r, err := c.Add(ctx, registry.Registry{Name: "team harbor", Kind: registry.KindCustom, Server: "harbor.example.com",
		Fields: map[string]string{"username": "robot$ci", "password": "s3cret"}})
	if err != nil {
		panic(err)
	}
	all, _ := c.List(ctx)
	fmt.Println(len(all), all[0].Name, all[0].Fields["password"], r.Version, sqlite.SchemaVersion())
	// Output:
	// 1 team harbor REDACTED 1 2
}
