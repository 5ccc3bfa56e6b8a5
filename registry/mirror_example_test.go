package registry_test

import (
	"fmt"

	"github.com/regcred/regcred/registry"
)

func ExampleValidateMirrors() {
	regs := []registry.Registry{
		{ID: "hub-cache", Name: "Hub cache", Kind: registry.KindCustom, Server: "cache.example.com",
			Mirror: &registry.Mirror{Of: "docker.io", Fallback: true}},
		{ID: "a", Name: "A", Kind: registry.KindCustom, Server: "a.example.com", Mirror: &registry.Mirror{Of: "b"}},
		{ID: "b", Name: "B", Kind: registry.KindCustom, Server: "b.example.com", Mirror: &registry.Mirror{Of: "a"}},
	}
	fmt.Println(registry.ValidateMirrors(regs[:1]))
	fmt.Println(registry.ValidateMirrors(regs))
	// Output:
	// <nil>
	// registry "A": field mirror.of: makes a loop of mirrors: a.example.com -> b.example.com -> a.example.com (a mirror cannot, through other mirrors, mirror itself: remove one link)
}
