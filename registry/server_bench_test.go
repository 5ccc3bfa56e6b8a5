package registry_test

import (
	"testing"

	"github.com/regcred/regcred/registry"
)

// BenchmarkServerInfo is what every consumer of a record pays for its server (the Keychain,
// the transport and its Cache, dockerconfig, String and LogValue): a record built in code
// parses it on each call; a record as a Store hands it out (UnmarshalStored) carries it
// parsed.
//
//	go test -run '^$' -bench ServerInfo -benchmem ./registry/
func BenchmarkServerInfo(b *testing.B) {
	literal := registry.Registry{ID: "r", Name: "r", Kind: registry.KindCustom, Server: "https://Registry.Example.com:5000/team/app",
		Fields: map[string]string{"username": "u", "password": "p"}}
	data, err := registry.MarshalStored(literal)
	if err != nil {
		b.Fatal(err)
	}
	stored, err := registry.UnmarshalStored(data)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		r    registry.Registry
	}{{"literal", literal}, {"stored", stored}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.r.ServerInfo(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
