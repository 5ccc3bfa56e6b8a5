package registry_test

import (
	"testing"

	"github.com/regcred/regcred/registry"
)

// One canonical form for every consumer (nodes, the Keychain, the transport).
// CanonicalHost (mirror.go) once folded registry.hub.docker.com into docker.io while the
// Keychain and dockerconfig did not; Docker's own rule (docker/cli normalizeIndexName,
// distribution/reference) knows docker.io and index.docker.io, and Hub's API host
// registry-1.docker.io, and nothing else.
func TestCanonicalHost(t *testing.T) {
	for in, want := range map[string]string{
		"docker.io":               "docker.io",
		"index.docker.io":         "docker.io",
		"registry-1.docker.io":    "docker.io",
		"registry.hub.docker.com": "registry.hub.docker.com",
		"[0:0::1]:5000":           "[::1]:5000",
		"ghcr.io":                 "ghcr.io",
	} {
		if got := registry.CanonicalHost(in); got != want {
			t.Errorf("CanonicalHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestServerKeyCanonicalMatches(t *testing.T) {
	for _, tc := range []struct {
		server, key, canonical string
		matches, notMatches    []string
	}{
		{"https://index.docker.io/v1/", registry.DockerHubServer, "docker.io",
			[]string{"docker.io", "registry-1.docker.io", "INDEX.docker.io"}, []string{"registry.hub.docker.com", "docker.io:5000"}},
		{"docker.io/library", registry.DockerHubServer, "docker.io", []string{"index.docker.io"}, nil},
		{"registry.hub.docker.com", "registry.hub.docker.com", "registry.hub.docker.com", nil, []string{"docker.io"}},
		{"ghcr.io/myorg", "ghcr.io/myorg", "ghcr.io", []string{"ghcr.io", "GHCR.io"}, []string{"ghcr.io:443", "quay.io"}},
		{"http://[0:0::1]:5000", "[::1]:5000", "[::1]:5000", []string{"[::1]:5000", "[0::1]:5000"}, []string{"[::1]"}},
		{"*.azurecr.io", "", "*.azurecr.io", []string{"myreg.azurecr.io", "MyReg.azurecr.io"},
			[]string{"azurecr.io", ".azurecr.io", "a.b.azurecr.io", "myreg.azurecr.io:5000"}},
	} {
		s, err := registry.ParseServer(tc.server)
		if err != nil {
			t.Fatalf("ParseServer(%q): %v", tc.server, err)
		}
		if s.Key() != tc.key || s.Canonical() != tc.canonical {
			t.Errorf("%s: Key %q Canonical %q, want %q %q", tc.server, s.Key(), s.Canonical(), tc.key, tc.canonical)
		}
		for _, h := range tc.matches {
			if !s.Matches(h) {
				t.Errorf("%s does not match %s", tc.server, h)
			}
		}
		for _, h := range tc.notMatches {
			if s.Matches(h) {
				t.Errorf("%s matches %s", tc.server, h)
			}
		}
	}
}
