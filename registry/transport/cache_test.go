package transport_test

import (
	"testing"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/transport"
)

// A transport is bound to its record's host, so two records with the same ID and version
// but different servers (a draft that changes the server of a saved record) must not share
// one: the second would withhold its credentials from its own host.
func TestTransportCacheKeysByHost(t *testing.T) {
	var c transport.Cache
	a := registry.Registry{ID: "r1", Version: 3, Name: "a", Kind: registry.KindCustom, Server: "https://a.example.com"}
	b := a
	b.Server = "https://b.example.com"
	ta, err := c.For(a)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := c.For(b)
	if err != nil {
		t.Fatal(err)
	}
	if ta == tb {
		t.Fatal("records on two hosts share one transport")
	}
	again, _ := c.For(b)
	if again != tb {
		t.Fatal("the same record got a new transport")
	}
}
