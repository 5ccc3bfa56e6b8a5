package sealed_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
	"github.com/regcred/regcred/store/sealed"
)

func ExampleNew() {
	ctx := context.Background()
	// In production: sealed.KeysFromFile("/etc/app/regcred.keys") or KeysFromEnv("").
	keys, err := sealed.ParseKeys(sealed.GenerateKey("2026-11"))
	if err != nil {
		panic(err)
	}
	inner := memory.New() // any Store: sqlite, postgres, a platform's own
	s, err := sealed.New(ctx, inner, keys)
	if err != nil {
		panic(err)
	}
	r := registry.Registry{ID: "harbor", Name: "harbor", Kind: registry.KindCustom, Server: "harbor.example.com",
		Fields: map[string]string{"username": "robot", "password": "s3cret"}, Version: 1}
	if err := s.Put(ctx, r); err != nil {
		panic(err)
	}
	raw, _ := inner.Get(ctx, "harbor")
	fmt.Println(raw.Fields["username"], strings.HasPrefix(raw.Fields["password"], sealed.Prefix+"2026-11:"))
	got, _ := s.Get(ctx, "harbor")
	fmt.Println(got.Fields["password"])
	// Output:
	// robot true
	// s3cret
}
