package keychain_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/keychain"
)

// Shadows names, for a console to warn at save, every record the Keychain passes over, and
// agrees with the Keychain: the record Shadows says is used is the one Match returns.
func TestShadows(t *testing.T) {
	public := registry.Registry{ID: "public", Name: "Docker Hub (public)", Kind: registry.KindPublic, Server: "docker.io"}
	hub := registry.Registry{ID: "hub", Name: "Docker Hub", Kind: registry.KindDockerHub, Fields: map[string]string{"username": "u", "password": "p"}}
	library := registry.Registry{ID: "library", Name: "library mirror", Kind: registry.KindPublic, Server: "index.docker.io/library"}
	a, b := fixture.Custom("a", "registry.example.com"), fixture.Custom("b", "https://REGISTRY.example.com/")
	c := fixture.Custom("c", "registry.example.com")
	c.Default = true
	org := fixture.Custom("org", "ghcr.io/myorg")
	ghcr := registry.Registry{ID: "ghcr", Name: "ghcr", Kind: registry.KindGHCR, Fields: map[string]string{"username": "u", "token": "t"}}
	acrAny, acrMine := fixture.Custom("acr-any", "*.azurecr.io"), fixture.Custom("acr-mine", "myreg.azurecr.io")
	bad := fixture.Custom("bad", "ftp://x")
	regs := []registry.Registry{public, hub, library, a, b, c, org, ghcr, acrAny, acrMine, bad}

	got := keychain.Shadows(regs)
	type pair struct {
		Shadowed, By, Server string
		Whole                bool
	}
	var pairs []pair
	for _, s := range got {
		pairs = append(pairs, pair{s.Shadowed, s.By, s.Server, s.Whole})
	}
	want := []pair{
		{"public", "hub", "docker.io", true},
		{"public", "library", "docker.io/library", false},
		{"hub", "library", "docker.io/library", false},
		{"a", "c", "registry.example.com", true},
		{"b", "a", "registry.example.com", true},
		{"b", "c", "registry.example.com", true},
		{"ghcr", "org", "ghcr.io/myorg", false},
		{"acr-any", "acr-mine", "myreg.azurecr.io", false},
	}
	less := func(x, y pair) bool { return x.Shadowed+x.By < y.Shadowed+y.By }
	if diff := cmp.Diff(want, pairs, cmpopts.SortSlices(less)); diff != "" {
		t.Fatalf("Shadows (-want +got):\n%s", diff)
	}
	reasons := map[string]string{}
	for _, s := range got {
		reasons[s.Shadowed+">"+s.By] = s.Reason
	}
	for key, words := range map[string][]string{
		"public>hub":  {`"Docker Hub (public)" is never used`, `"Docker Hub" has credentials`},
		"hub>library": {"pulled anonymously", `"library mirror"`, `credentials of "Docker Hub"`},
		"a>c":         {`"c" is the default`},
		"b>a":         {`"a" was saved first`},
	} {
		for _, w := range words {
			if !strings.Contains(reasons[key], w) {
				t.Errorf("%s: reason %q lacks %q", key, reasons[key], w)
			}
		}
	}
	// The Keychain uses what Shadows says is used.
	kc := newTestKeychain(t, regs[:len(regs)-1])
	for ref, want := range map[string]string{"alpine": "library", "team/app": "hub", "registry.example.com/x": "c",
		"ghcr.io/myorg/app": "org", "ghcr.io/other/app": "ghcr", "myreg.azurecr.io/app": "acr-mine", "other.azurecr.io/app": "acr-any"} {
		if got, ok := kc.Match(ref); !ok || got.ID != want {
			t.Errorf("Match(%s) = %q, want %q", ref, got.ID, want)
		}
	}
	if s := keychain.Shadows([]registry.Registry{hub, org}); len(s) != 0 {
		t.Errorf("records that do not overlap shadow nothing: %+v", s)
	}
}
