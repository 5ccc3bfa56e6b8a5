package registry_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/registry"
)

// ParseServer's refusals are in kind_test.go's TestValidateRefuses (through Validate, as a
// form meets them) and in FuzzParseServer.

func TestParseServer(t *testing.T) {
	tests := []struct {
		in   string
		want registry.Server
	}{
		{"ghcr.io", registry.Server{Host: "ghcr.io"}},
		{"  GHCR.io  ", registry.Server{Host: "ghcr.io"}},
		{"HTTPS://Registry.Example.com:05000/", registry.Server{Scheme: "https", Host: "registry.example.com:5000"}},
		{"http://[::1]:5000", registry.Server{Scheme: "http", Host: "[::1]:5000"}},
		{"[0:0:0:0:0:0:0:1]", registry.Server{Host: "[::1]"}},
		{"[2001:DB8::1]:443", registry.Server{Host: "[2001:db8::1]:443"}},
		{"ghcr.io/myorg/team/", registry.Server{Host: "ghcr.io", Path: "myorg/team"}},
		{"https://index.docker.io/v1/", registry.Server{Scheme: "https", Host: "index.docker.io"}},
		{"https://registry.example.com/v2/", registry.Server{Scheme: "https", Host: "registry.example.com"}},
		{"*.azurecr.io", registry.Server{Host: "*.azurecr.io", Wildcard: true}},
		{"*.dkr.ecr.*.amazonaws.com", registry.Server{Host: "*.dkr.ecr.*.amazonaws.com", Wildcard: true}},
		{"localhost:5000", registry.Server{Host: "localhost:5000"}},
		{"registry_1.internal", registry.Server{Host: "registry_1.internal"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := registry.ParseServer(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("ParseServer (-want +got):\n%s", diff)
			}
		})
	}
	if u := (registry.Server{Host: "r.example.com:5000"}).BaseURL().String(); u != "https://r.example.com:5000" {
		t.Errorf("BaseURL = %s", u)
	}
	if u := (registry.Server{Scheme: "http", Host: "[::1]:5000"}).BaseURL().String(); u != "http://[::1]:5000" {
		t.Errorf("BaseURL = %s", u)
	}
}
