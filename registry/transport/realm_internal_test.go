package transport

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// fakeLookup resolves from a table; names not in it do not resolve.
func fakeLookup(table map[string][]string) lookupFunc {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		addrs, ok := table[host]
		if !ok {
			return nil, errors.New("no such host " + host)
		}
		var out []netip.Addr
		for _, a := range addrs {
			out = append(out, netip.MustParseAddr(a))
		}
		return out, nil
	}
}

func TestRealmPolicyTable(t *testing.T) {
	lookup := fakeLookup(map[string][]string{
		"registry.example.com": {"203.0.113.10"},
		"auth.example.com":     {"203.0.113.11", "2001:db8::11"},
		"localhost":            {"127.0.0.1"}, // not consulted: "localhost" is loopback by name
		"internal.example.com": {"10.0.0.5"},
		"meta.example.com":     {"169.254.169.254"},
		"meta6.example.com":    {"fd00:ec2::254"},
		"ecs.example.com":      {"169.254.170.2"},
		"alibaba.example.com":  {"100.100.100.200"},
		"cgnat.example.com":    {"100.64.1.1"},
		"ll.example.com":       {"169.254.10.1"},
		"ll6.example.com":      {"fe80::1"},
		"mixed.example.com":    {"203.0.113.1", "127.0.0.2"},
		"loop.example.com":     {"127.0.0.53"},
		"zero.example.com":     {"0.0.0.0"},
	})
	cases := []struct {
		registry, realm string
		insecure        bool
		proxied         bool
		want            string // "" allowed, "policy: <phrase>" refused by policy, "resolve" a lookup error
	}{
		{"registry.example.com", "https://auth.example.com/token", false, false, ""},
		{"registry.example.com", "https://registry.example.com/token", false, false, ""},
		{"registry.example.com", "https://registry.example.com:443/token", false, false, ""},
		{"registry.example.com", "https://localhost/token", false, false, "policy: loopback"},
		{"registry.example.com", "https://LOCALHOST./token", false, false, "policy: loopback"},
		{"registry.example.com", "https://auth.localhost/token", false, false, "policy: loopback"},
		{"registry.example.com", "https://loop.example.com/token", false, false, "policy: loopback"},
		{"registry.example.com", "https://zero.example.com/token", false, false, "policy: loopback"},
		{"registry.example.com", "https://127.0.0.1/token", false, false, "policy: loopback"},
		{"registry.example.com", "https://[::ffff:127.0.0.1]/token", false, false, "policy: loopback"},
		{"registry.example.com", "https://[::1]:8443/token", false, false, "policy: loopback"},
		{"registry.example.com", "https://mixed.example.com/token", false, false, "policy: loopback"},
		{"registry.example.com", "https://internal.example.com/token", false, false, "policy: private"},
		{"registry.example.com", "https://cgnat.example.com/token", false, false, "policy: private"},
		{"registry.example.com", "https://ll.example.com/token", false, false, "policy: link-local"},
		{"registry.example.com", "https://ll6.example.com/token", false, false, "policy: link-local"},
		{"registry.example.com", "https://meta.example.com/token", false, false, "policy: metadata"},
		{"registry.example.com", "https://169.254.169.254/latest/meta-data", false, false, "policy: metadata"},
		{"registry.example.com", "https://meta6.example.com/token", false, false, "policy: metadata"},
		{"registry.example.com", "https://ecs.example.com/token", false, false, "policy: metadata"},
		{"registry.example.com", "https://alibaba.example.com/token", false, false, "policy: metadata"},
		{"registry.example.com", "http://auth.example.com/token", false, false, "policy: plain http"},
		{"registry.example.com", "http://auth.example.com/token", true, false, ""},
		{"registry.example.com", "ftp://auth.example.com/token", true, false, "policy: scheme"},
		{"registry.example.com", "https://nowhere.example.com/token", false, false, "resolve"},
		{"registry.example.com", "https://nowhere.example.com/token", false, true, ""},
		// The registry itself is on loopback (a port-forward, a local registry): a loopback
		// realm is allowed, anything more internal or of another class is not.
		{"127.0.0.1:5000", "https://localhost:5001/token", false, false, ""},
		{"localhost:5000", "https://127.0.0.1:5001/token", false, false, ""},
		{"127.0.0.1:5000", "https://meta.example.com/token", false, false, "policy: metadata"},
		{"127.0.0.1:5000", "https://internal.example.com/token", false, false, "policy: private"},
		{"[::1]:5000", "https://loop.example.com/token", false, false, ""},
		// A registry on a private network may use a token service on that network.
		{"10.1.1.1:5000", "https://internal.example.com/token", false, false, ""},
		{"10.1.1.1:5000", "https://localhost/token", false, false, "policy: loopback"},
		{"10.1.1.1:5000", "https://meta6.example.com/token", false, false, "policy: metadata"},
	}
	for _, c := range cases {
		t.Run(c.registry+" "+c.realm, func(t *testing.T) {
			u, err := url.Parse(c.realm)
			if err != nil {
				t.Fatal(err)
			}
			err = CheckRealm(context.Background(), lookup, c.registry, u, c.insecure, c.proxied)
			switch {
			case c.want == "":
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			case c.want == "resolve":
				if err == nil || errors.Is(err, ErrRealmPolicy) {
					t.Fatalf("want a resolution error, got %v", err)
				}
			default:
				if !errors.Is(err, ErrRealmPolicy) || !strings.Contains(err.Error(), strings.TrimPrefix(c.want, "policy: ")) {
					t.Fatalf("want refused (%s), got %v", c.want, err)
				}
			}
		})
	}
}
