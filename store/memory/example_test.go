package memory_test

import (
	"context"
	"fmt"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

func Example() {
	ctx := context.Background()
	s := memory.New()
	defer s.Close()
	r := registry.Registry{ID: "reg-1", Name: "GitHub", Kind: registry.KindGHCR, Version: 1,
		Fields: map[string]string{"username": "alice", "token": "ghp_example"}}
	if err := s.Put(ctx, r); err != nil {
		panic(err)
	}
	err := s.Put(ctx, r) // version 1 again: someone else saved it first
	fmt.Println(err != nil)
	got, _ := s.Get(ctx, "reg-1")
	fmt.Println(got.Name, got.Version)
	// Output:
	// true
	// GitHub 1
}
