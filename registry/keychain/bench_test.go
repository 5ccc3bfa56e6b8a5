package keychain_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/keychain"
)

// benchRegistries is 1,000 saved registries: Docker Hub, 699 hosts, 50 with ports, 150 path-scoped
// under ghcr.io, 100 wildcards. configKeys is, per record, the concrete docker config key
// a user would have for it (a config has no wildcards).
func benchRegistries() (regs []registry.Registry, configKeys []string) {
	add := func(r registry.Registry, key string) {
		r.ID, r.Name = fmt.Sprintf("reg-%04d", len(regs)), fmt.Sprintf("bench-%04d", len(regs))
		regs = append(regs, r)
		configKeys = append(configKeys, key)
	}
	custom := func(server string) registry.Registry {
		return registry.Registry{Kind: registry.KindCustom, Server: server,
			Fields: map[string]string{"username": "u", "password": "p"}}
	}
	add(registry.Registry{Kind: registry.KindDockerHub, Fields: map[string]string{"username": "u", "password": "p"}},
		registry.DockerHubServer)
	for i := range 699 {
		h := fmt.Sprintf("registry-%03d.example.com", i)
		add(custom(h), h)
	}
	for i := range 50 {
		h := fmt.Sprintf("host-%02d.example.org:5000", i)
		add(custom(h), h)
	}
	for i := range 150 {
		add(registry.Registry{Kind: registry.KindGHCR, Server: fmt.Sprintf("ghcr.io/org-%03d", i),
			Fields: map[string]string{"username": "u", "token": "t"}}, fmt.Sprintf("ghcr.io/org-%03d", i))
	}
	for i := range 100 {
		add(custom(fmt.Sprintf("*.tenant-%03d.example.net", i)), fmt.Sprintf("pull.tenant-%03d.example.net", i))
	}
	return regs, configKeys
}

// BenchmarkKeychain resolves image repositories against 1,000 saved registries, with
// regcred's Keychain and, side by side, with go-containerregistry's authn.DefaultKeychain
// reading a config.json that holds the same 1,000 entries.
//
//	go test -run '^$' -bench Keychain -benchmem ./registry/
func BenchmarkKeychain(b *testing.B) {
	regs, keys := benchRegistries()
	refs := []struct{ name, ref string }{
		{"exact", "registry-511.example.com/team/app:1.0"},
		{"port", "host-33.example.org:5000/app"},
		{"path", "ghcr.io/org-120/service/api:v2"},
		{"wildcard", "pull.tenant-077.example.net/app"},
		{"miss", "quay.io/someone/else"},
		{"dockerhub-official", "postgres:17"}, // go-containerregistry's RepositoryStr allocates "library/postgres"
	}
	kc, err := keychain.New(regs)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range refs {
		repo := benchRepository(b, r.ref)
		var res authn.Resource = repo // what remote hands a keychain: converted once per pull
		b.Run("regcred/"+r.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := kc.Resolve(res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}

	dir := b.TempDir()
	writeBenchConfig(b, dir, keys)
	b.Setenv("HOME", dir) // no ~/.docker/config.json in the way
	b.Setenv("DOCKER_CONFIG", dir)
	for _, r := range refs {
		repo := benchRepository(b, r.ref)
		var res authn.Resource = repo
		b.Run("ggcr-DefaultKeychain/"+r.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := authn.DefaultKeychain.Resolve(res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkKeychainMatch is the string entry point: parse the reference, then look up.
func BenchmarkKeychainMatch(b *testing.B) {
	regs, _ := benchRegistries()
	kc, err := keychain.New(regs)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := kc.Match("ghcr.io/org-120/service/api:v2"); !ok {
			b.Fatal("no match")
		}
	}
}

// BenchmarkNewKeychain is the cost of (re)building the index of 1,000 registries, paid
// once per catalog change: records built in code ("literal", their servers parsed in New)
// and records as a Store hands them out ("stored": UnmarshalStored parsed their servers
// once, where they entered).
//
//	go test -run '^$' -bench NewKeychain -benchmem ./registry/keychain/
func BenchmarkNewKeychain(b *testing.B) {
	literal, _ := benchRegistries()
	stored := make([]registry.Registry, len(literal))
	for i, r := range literal {
		data, err := registry.MarshalStored(r)
		if err != nil {
			b.Fatal(err)
		}
		if stored[i], err = registry.UnmarshalStored(data); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		regs []registry.Registry
	}{{"literal", literal}, {"stored", stored}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := keychain.New(c.regs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchRepository is what remote.Image hands the keychain for ref: ref.Context().
func benchRepository(b *testing.B, ref string) name.Repository {
	r, err := name.ParseReference(ref)
	if err != nil {
		b.Fatal(err)
	}
	return r.Context()
}

func writeBenchConfig(b *testing.B, dir string, keys []string) {
	auths := map[string]map[string]string{}
	for _, k := range keys {
		auths[k] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte("u:p"))}
	}
	data, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		b.Fatal(err)
	}
}

// The benchmark's fixture resolves as intended (so the numbers measure real hits).
func TestBenchFixtureResolves(t *testing.T) {
	regs, _ := benchRegistries()
	kc := newTestKeychain(t, regs)
	tests := map[string]string{
		"registry-511.example.com/team/app": "reg-0512",
		"postgres":                          "reg-0000",
		"host-33.example.org:5000/app":      "reg-0733",
		"ghcr.io/org-120/service/api":       "reg-0870",
		"pull.tenant-077.example.net/app":   "reg-0977",
		"quay.io/someone/else":              "",
	}
	for ref, want := range tests {
		repo, err := name.NewRepository(ref)
		if err != nil {
			t.Fatal(err)
		}
		auth, err := kc.Resolve(repo)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := auth.Authorization()
		got, _ := kc.Match(ref)
		if got.ID != want || (want == "") != (*cfg == authn.AuthConfig{}) {
			t.Errorf("%s -> %q (auth %v), want %q", ref, got.ID, cfg.Username != "", want)
		}
	}
}
