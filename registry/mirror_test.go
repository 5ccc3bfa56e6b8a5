package registry_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/regcred/regcred/registry"
)

func mirrorOf(id, server, of string, order int, fallback bool) registry.Registry {
	return registry.Registry{ID: id, Name: strings.ToUpper(id), Kind: registry.KindCustom, Server: server,
		Mirror: &registry.Mirror{Of: of, Order: order, Fallback: fallback}}
}

func TestValidateMirrors(t *testing.T) {
	upstream := registry.Registry{ID: "up", Name: "Upstream", Kind: registry.KindCustom, Server: "registry.internal:5000"}
	for _, tc := range []struct {
		name string
		regs []registry.Registry
		want string // "" for valid
	}{
		{"host upstream", []registry.Registry{mirrorOf("m", "cache.internal", "docker.io", 0, false)}, ""},
		{"saved upstream by ID", []registry.Registry{upstream, mirrorOf("m", "cache.internal", "up", 0, true)}, ""},
		{"chain without loop", []registry.Registry{
			mirrorOf("a", "a.internal", "b", 0, false), mirrorOf("b", "b.internal", "docker.io", 0, false)}, ""},
		{"two mirrors agree", []registry.Registry{
			mirrorOf("a", "a.internal", "docker.io", 0, true), mirrorOf("b", "b.internal", "index.docker.io", 1, true)}, ""},
		{"localhost upstream", []registry.Registry{mirrorOf("m", "cache.internal", "localhost", 0, false)}, ""},

		{"unknown ID", []registry.Registry{upstream, mirrorOf("m", "cache.internal", "upstrem", 0, false)},
			`registry "M": field mirror.of: names an unknown registry "upstrem" (give a saved registry's ID or an upstream host such as docker.io; saved IDs: m, up)`},
		{"empty", []registry.Registry{mirrorOf("m", "cache.internal", "", 0, false)}, "field mirror.of: is empty"},
		{"whitespace", []registry.Registry{mirrorOf("m", "cache.internal", " docker.io", 0, false)}, "contains whitespace"},
		{"negative order", []registry.Registry{mirrorOf("m", "cache.internal", "docker.io", -1, false)}, "field mirror.order: is negative"},
		{"path upstream", []registry.Registry{mirrorOf("m", "cache.internal", "ghcr.io/org", 0, false)}, `has a path "org"`},
		{"wildcard upstream", []registry.Registry{mirrorOf("m", "cache.internal", "*.azurecr.io", 0, false)}, "is a wildcard"},
		{"bad host", []registry.Registry{mirrorOf("m", "cache.internal", "docker.io:99999", 0, false)}, "field mirror.of: port"},
		{"itself by host", []registry.Registry{mirrorOf("m", "cache.internal", "cache.internal", 0, false)}, "a registry cannot mirror itself"},
		{"itself by ID", []registry.Registry{mirrorOf("m", "cache.internal", "m", 0, false)}, "a registry cannot mirror itself"},
		{"Docker Hub by another spelling", []registry.Registry{mirrorOf("m", "docker.io", "registry-1.docker.io", 0, false)}, "a registry cannot mirror itself"},
		{"two-loop by ID", []registry.Registry{
			mirrorOf("a", "a.internal", "b", 0, false), mirrorOf("b", "b.internal", "a", 0, false)},
			"makes a loop of mirrors: a.internal -> b.internal -> a.internal"},
		{"loop by host", []registry.Registry{
			mirrorOf("a", "a.internal", "b.internal", 0, false), mirrorOf("b", "b.internal:443", "c.internal", 0, false),
			mirrorOf("c", "c.internal", "b.internal:443", 0, false)},
			"makes a loop of mirrors: b.internal:443 -> c.internal -> b.internal:443"},
		{"fallback disagrees", []registry.Registry{
			mirrorOf("a", "a.internal", "docker.io", 0, true), mirrorOf("b", "b.internal", "docker.io", 1, false)},
			`field mirror.fallback: is false but "A", another mirror of docker.io, says true`},
		{"wildcard mirror", []registry.Registry{{ID: "w", Name: "W", Kind: registry.KindCustom, Server: "*.cache.internal",
			Mirror: &registry.Mirror{Of: "docker.io"}}}, "a mirror needs one host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := registry.ValidateMirrors(tc.regs)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			var me *registry.MirrorError
			if !errors.Is(err, registry.ErrInvalid) || !errors.As(err, &me) {
				t.Errorf("%v: not a *MirrorError with ErrInvalid", err)
			}
		})
	}
}

func TestResolveUpstream(t *testing.T) {
	saved := []registry.Registry{{ID: "docker.io", Name: "Odd ID", Kind: registry.KindCustom, Server: "odd.internal"}}
	m := &registry.Mirror{Of: "docker.io"}
	up, err := m.ResolveUpstream(saved)
	if err != nil || up.Registry == nil || up.Host != "odd.internal" {
		t.Errorf("a saved ID wins over the host of the same spelling: %+v %v", up, err)
	}
	up, err = m.ResolveUpstream(nil)
	if err != nil || up.Registry != nil || up.Host != "docker.io" {
		t.Errorf("plain host: %+v %v", up, err)
	}
	if up, err := (&registry.Mirror{Of: "https://index.docker.io/v1/"}).ResolveUpstream(nil); err != nil || up.Host != "docker.io" {
		t.Errorf("Docker Hub's config key: %+v %v", up, err)
	}
}
