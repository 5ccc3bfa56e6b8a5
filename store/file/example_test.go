package file_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/file"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "regcred-file-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "registries.json")

	s, err := file.New(path)
	if err != nil {
		panic(err)
	}
	r := registry.Registry{ID: "reg-1", Name: "GitHub", Kind: registry.KindGHCR, Version: 1,
		Fields: map[string]string{"username": "alice", "token": "ghp_example"}}
	if err := s.Put(ctx, r); err != nil {
		panic(err)
	}
	s.Close()

	again, err := file.New(path) // another handle, as another process would open it
	if err != nil {
		panic(err)
	}
	defer again.Close()
	all, _ := again.List(ctx)
	fi, _ := os.Stat(path)
	fmt.Println(len(all), all[0].Name, fi.Mode().Perm())
	// Output: 1 GitHub -rw-------
}
