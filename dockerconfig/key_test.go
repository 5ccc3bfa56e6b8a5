package dockerconfig

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/registry"
)

func TestKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"docker.io", HubKey},
		{"DOCKER.IO", HubKey},
		{"index.docker.io", HubKey},
		{"registry-1.docker.io", HubKey},
		{"https://index.docker.io/v1/", HubKey},
		{"https://index.docker.io/v1", HubKey},
		{"http://docker.io", HubKey},
		{"https://registry-1.docker.io/v2/", HubKey},
		{"docker.io/library", HubKey}, // Hub has one key: docker and the kubelet look nowhere else
		{"ghcr.io", "ghcr.io"},
		{"GHCR.io", "ghcr.io"},
		{"https://ghcr.io", "ghcr.io"},
		{"https://ghcr.io/", "ghcr.io"},
		{"http://ghcr.io", "ghcr.io"},
		{"HTTPS://ghcr.io", "ghcr.io"},
		{"ghcr.io/v2/", "ghcr.io"},
		{"ghcr.io/v1/", "ghcr.io"},
		{"  ghcr.io/  ", "ghcr.io"},
		{"ghcr.io/myorg", "ghcr.io/myorg"},
		{"https://ghcr.io/myorg/", "ghcr.io/myorg"},
		{"ghcr.io//myorg//team/", "ghcr.io/myorg/team"},
		{"ghcr.io/myorg/v2", "ghcr.io/myorg/v2"}, // a repository may be named v2
		{"localhost:5000", "localhost:5000"},
		{"http://localhost:5000/v2/", "localhost:5000"},
		{"Registry.Example.com:443", "registry.example.com:443"},
		{"[::1]:5000", "[::1]:5000"},
		{"http://[::1]:5000/", "[::1]:5000"},
		// docker/cli's ConvertToHostname table (cli/config/credentials/file_store_test.go).
		{"127.0.0.1", "127.0.0.1"},
		{"::1", "::1"},
		{"[::1]", "[::1]"},
		{"127.0.0.1:6556", "127.0.0.1:6556"},
		{"::1:6556", "::1:6556"}, // no scheme: kept as written, as docker does
		{"[::1]:6556", "[::1]:6556"},
		{"https://127.0.0.1:6555/v2/", "127.0.0.1:6555"},
		{"https://::1:6555/v2/", "[::1]:6555"},
		{"https://[::1]:6555/v2/", "[::1]:6555"},
		{"https://[::1]/v2/", "[::1]"}, // docker/cli: "::1" (its FIXME); brackets as in image references
		{"http://example.com:6555", "example.com:6555"},
		{"https://example.com:6555/v2/", "example.com:6555"},
		{"https://[2001:DB8::1]:443/", "[2001:db8::1]:443"},
		{"https://2001:db8::1:443/v2/", "[2001:db8::1]:443"},
		// User info never reaches a key.
		{"https://robot:s3cret@ghcr.io/v2/", "ghcr.io"},
		{"robot:s3cret@ghcr.io/myorg", "ghcr.io/myorg"},
		{"https://u:p@[::1]:5000/", "[::1]:5000"},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"},
		{"host/x://y", "host/x:/y"}, // "://" after a slash is no scheme
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := Key(tt.in)
			if got != tt.want {
				t.Errorf("Key(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := Key(got); again != got {
				t.Errorf("Key is not idempotent: Key(%q) = %q", got, again)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	e := func(u string) AuthEntry { return AuthEntry{Username: u, Password: "p"} }
	cfg := &Config{Auths: map[string]AuthEntry{
		"https://ghcr.io":              e("scheme"),
		"ghcr.io/myorg":                e("org"),
		"http://localhost:5000/v2/":    e("v2"),
		"Quay.IO":                      e("upper"),
		"index.docker.io":              e("hub-alias"),
		"registry.example.com":         e("exact"),
		"https://registry.example.com": e("alias"),
		"b.example/team":               e("team"),
	}}
	tests := []struct {
		server, wantKey string
	}{
		{"ghcr.io", "https://ghcr.io"},
		{"ghcr.io/other", "https://ghcr.io"},   // a host entry serves every path
		{"ghcr.io/myorg", "ghcr.io/myorg"},     // the path-scoped entry wins
		{"ghcr.io/myorg/app", "ghcr.io/myorg"}, // down the tree
		{"localhost:5000", "http://localhost:5000/v2/"},
		{"quay.io", "Quay.IO"},
		{"docker.io", "index.docker.io"},
		{"https://index.docker.io/v1/", "index.docker.io"},
		{"registry.example.com", "registry.example.com"}, // exact beats alias
		{"b.example", ""},                                // a path entry never serves its parent
		{"b.example/team2", ""},
		{"nothing.example", ""},
	}
	for _, tt := range tests {
		t.Run(tt.server, func(t *testing.T) {
			k, _, ok := cfg.Lookup(tt.server)
			if k != tt.wantKey || ok != (tt.wantKey != "") {
				t.Errorf("Lookup(%q) = %q, %v; want %q", tt.server, k, ok, tt.wantKey)
			}
		})
	}
}

func TestSetReplacesAliasesAndKeepsEmail(t *testing.T) {
	cfg := &Config{Auths: map[string]AuthEntry{
		"https://ghcr.io": {Username: "old", Password: "old", Email: "me@example.com"},
		"ghcr.io/v2/":     {Username: "older", Password: "older"},
		"ghcr.io/myorg":   {Username: "org", Password: "org"},
		"ghcr.io":         {Email: "kept@example.com"},
	}}
	cfg.Set("GHCR.io", registry.Credentials{Username: "new", Password: "new", ExpiresAt: time.Now()})
	want := map[string]AuthEntry{
		"ghcr.io":       {Username: "new", Password: "new", Email: "kept@example.com"},
		"ghcr.io/myorg": {Username: "org", Password: "org"},
	}
	if diff := cmp.Diff(want, cfg.Auths); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	aliasOnly := &Config{Auths: map[string]AuthEntry{
		"https://quay.io/": {Username: "old", Email: "b@example.com"},
		"http://quay.io":   {Username: "old", Email: "a@example.com"},
	}}
	aliasOnly.Set("quay.io", registry.Credentials{Username: "new", Password: "p"})
	if diff := cmp.Diff(map[string]AuthEntry{"quay.io": {Username: "new", Password: "p", Email: "a@example.com"}}, aliasOnly.Auths); diff != "" {
		t.Errorf("alias email (-want +got):\n%s", diff)
	}
	if !cfg.Delete("https://ghcr.io/") || cfg.Delete("ghcr.io") {
		t.Errorf("Delete reported wrongly")
	}
	if _, ok := cfg.Auths["ghcr.io/myorg"]; !ok || len(cfg.Auths) != 1 {
		t.Errorf("Delete of the host removed the path entry: %v", cfg.Auths)
	}
}
