package compose_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/regcred/regcred/compose"
)

// Load lists what a project needs pulled, and why the other services need nothing.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "compose-example-")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "compose.yaml")
	os.WriteFile(file, []byte(`
name: shop
services:
  web:
    image: ${REGISTRY}/shop/web:${TAG:-1.0}
  cache:
    image: redis:7
  assets:
    build: ./assets
  debug:
    image: busybox
    profiles: [debug]
`), 0o600)

	p, err := compose.Load(context.Background(), []string{file},
		compose.WithOSEnv(false), compose.WithEnv("REGISTRY=registry.example.com"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, img := range p.Images {
		fmt.Println("pull", img.Ref, "for", img.Services)
	}
	for _, s := range p.Skipped {
		fmt.Println("skip", s.Service+":", s.Reason)
	}
	// Output:
	// pull docker.io/library/redis:7 for [cache]
	// pull registry.example.com/shop/web:1.0 for [web]
	// skip assets: build only: no image to pull
	// skip debug: not in an active profile
}
