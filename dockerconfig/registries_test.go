package dockerconfig

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

func TestFromRegistries(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	hub := registry.Registry{ID: "1", Name: "hub", Kind: registry.KindDockerHub, Fields: map[string]string{"username": "alice", "password": "dckr_pat"}}
	ghcrOrg := registry.Registry{ID: "2", Name: "ghcr-org", Kind: registry.KindGHCR, Server: "ghcr.io/myorg", Fields: map[string]string{"username": "octo", "token": "ghp"}}
	custom := registry.Registry{ID: "3", Name: "custom", Kind: registry.KindCustom, Server: "https://Registry.Example.com:5000/", Fields: map[string]string{"username": "u", "password": "p"}}
	anonCustom := registry.Registry{ID: "4", Name: "anon", Kind: registry.KindCustom, Server: "open.example.com"}
	public := registry.Registry{ID: "5", Name: "public", Kind: registry.KindPublic}
	ecr := registry.Registry{ID: "6", Name: "ecr", Kind: registry.KindECR, Fields: map[string]string{"region": "eu-west-1"}}
	acr := registry.Registry{ID: "7", Name: "acr", Kind: registry.KindACR, Server: "*.azurecr.io", Fields: map[string]string{"loginServer": "x.azurecr.io", "username": "sp", "password": "pw", "tenant": "t"}}
	hub2 := registry.Registry{ID: "8", Name: "hub-two", Kind: registry.KindDockerHub, Server: "index.docker.io", Fields: map[string]string{"username": "bob", "password": "x"}}

	// A factory like providers.For: static kinds statically, token kinds from a table.
	tokens := map[string]registry.Credentials{
		"ecr": {Username: "AWS", Password: "ecr-token", ExpiresAt: t0.Add(12 * time.Hour)},
		"acr": {Username: TokenUsername, Password: "acr-refresh", ExpiresAt: t0.Add(3 * time.Hour)},
	}
	factory := func(r registry.Registry) (registry.Provider, error) {
		if c, ok := tokens[r.Name]; ok {
			return registry.Static(c), nil
		}
		return registry.StaticFactory(r)
	}
	tests := []struct {
		name    string
		regs    []registry.Registry
		opts    []Option
		want    map[string]AuthEntry
		wantExp time.Time
	}{
		{"static kinds, public and anonymous left out", []registry.Registry{hub, ghcrOrg, custom, anonCustom, public}, nil,
			map[string]AuthEntry{
				HubKey:                      {Username: "alice", Password: "dckr_pat"},
				"ghcr.io/myorg":             {Username: "octo", Password: "ghp"},
				"registry.example.com:5000": {Username: "u", Password: "p"},
			}, time.Time{}},
		{"wildcards skipped without WithHost", []registry.Registry{hub, ecr, acr}, nil,
			map[string]AuthEntry{HubKey: {Username: "alice", Password: "dckr_pat"}}, time.Time{}},
		{"WithHost by name and by id; earliest expiry", []registry.Registry{hub, ecr, acr},
			[]Option{WithHost("ecr", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "210987654321.dkr.ecr.eu-west-1.amazonaws.com"), WithHost("7", "Myreg.azurecr.io")},
			map[string]AuthEntry{
				HubKey: {Username: "alice", Password: "dckr_pat"},
				"123456789012.dkr.ecr.eu-west-1.amazonaws.com": {Username: "AWS", Password: "ecr-token"},
				"210987654321.dkr.ecr.eu-west-1.amazonaws.com": {Username: "AWS", Password: "ecr-token"},
				"myreg.azurecr.io": {IdentityToken: "acr-refresh"},
			}, t0.Add(3 * time.Hour)},
		{"empty list", nil, nil, map[string]AuthEntry{}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, exp, err := FromRegistries(context.Background(), tt.regs, factory, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, cfg.Auths); diff != "" {
				t.Errorf("auths (-want +got):\n%s", diff)
			}
			if !exp.Equal(tt.wantExp) {
				t.Errorf("expiry %v, want %v", exp, tt.wantExp)
			}
		})
	}

	errTests := []struct {
		name    string
		regs    []registry.Registry
		f       registry.ProviderFactory
		opts    []Option
		is      error
		inError []string
	}{
		{"two registries on one key", []registry.Registry{hub, hub2}, nil, nil, registry.ErrConflict, []string{"hub-two", `"hub"`, HubKey}},
		{"WithHost outside the wildcard", []registry.Registry{ecr}, factory, []Option{WithHost("ecr", "123456789012.dkr.ecr.us-east-1.amazonaws.com")}, registry.ErrInvalid, []string{"ecr", "does not match"}},
		{"WithHost with a path", []registry.Registry{acr}, factory, []Option{WithHost("acr", "x.azurecr.io/repo")}, registry.ErrInvalid, []string{"acr"}},
		{"WithHost on a concrete registry", []registry.Registry{custom}, nil, []Option{WithHost("custom", "registry.example.com:5000")}, registry.ErrInvalid, []string{"custom", "wildcard"}},
		{"token kind without a token factory", []registry.Registry{ecr}, nil, []Option{WithHost("ecr", "123456789012.dkr.ecr.eu-west-1.amazonaws.com")}, registry.ErrInvalid, []string{"ecr", "providers.For"}},
		{"provider failure", []registry.Registry{custom}, func(registry.Registry) (registry.Provider, error) {
			return registry.ProviderFunc(func(context.Context) (registry.Credentials, error) {
				return registry.Credentials{}, registry.ErrUnauthorized
			}), nil
		}, nil, registry.ErrUnauthorized, []string{"custom"}},
		{"invalid server", []registry.Registry{{Name: "broken", Kind: registry.KindCustom, Server: "ftp://x"}}, nil, nil, registry.ErrInvalid, []string{"broken"}},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := FromRegistries(context.Background(), tt.regs, tt.f, tt.opts...)
			if err == nil {
				t.Fatalf("no error; config %v", cfg)
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.is)
			}
			for _, s := range tt.inError {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("err = %v, want it to mention %q", err, s)
				}
			}
			if cfg != nil {
				t.Errorf("a config came back with the error")
			}
		})
	}
}

func TestFromRegistriesLogsSkips(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	regs := []registry.Registry{
		{Name: "ecr", Kind: registry.KindECR, Fields: map[string]string{"region": "eu-west-1", "secretAccessKey": "SECRETKEY"}},
		{Name: "pub", Kind: registry.KindPublic},
	}
	// A token provider that does not report its concrete host (Credentials.Server).
	noHost := func(registry.Registry) (registry.Provider, error) {
		return registry.Static(registry.Credentials{Username: "AWS", Password: "token"}), nil
	}
	if _, _, err := FromRegistries(context.Background(), regs, noHost, WithLogger(l)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range []string{"registry=ecr", "WithHost", "registry=pub"} {
		if !strings.Contains(out, s) {
			t.Errorf("log lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "SECRETKEY") {
		t.Errorf("log leaks a secret:\n%s", out)
	}
}

// TestFromRegistriesRefusesRedacted: a redacted view is refused with ErrRedacted by every
// factory but the Catalog's, which resolves it by ID (so nothing deploys "REDACTED", and
// the Catalog's List can be deployed as it is); a real password that reads REDACTED is used
// as it is.
func TestFromRegistriesRefusesRedacted(t *testing.T) {
	ctx := context.Background()
	hub := registry.Registry{ID: "1", Name: "hub", Kind: registry.KindDockerHub, Fields: map[string]string{"username": "alice", "password": "dckr_pat"}}
	ghcr := registry.Registry{ID: "2", Name: "gh", Kind: registry.KindGHCR, Fields: map[string]string{"username": "octo", "token": "ghp"}}
	for _, f := range []registry.ProviderFactory{nil, registry.StaticFactory} {
		cfg, _, err := FromRegistries(ctx, []registry.Registry{hub, ghcr.Redacted()}, f)
		if !errors.Is(err, registry.ErrRedacted) || !strings.Contains(err.Error(), "gh") || cfg != nil {
			t.Fatalf("FromRegistries with a redacted view: %v, %v; want ErrRedacted naming the registry and no config", cfg, err)
		}
	}

	cat := catalog.New(memory.New())
	defer cat.Close()
	saved, err := cat.Add(ctx, ghcr)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := FromRegistries(ctx, []registry.Registry{saved}, cat.ProviderFactory())
	if err != nil || cfg.Auths["ghcr.io"].Password.Reveal() != "ghp" {
		t.Fatalf("the Catalog's factory on its redacted view: %v, %v; want the real token", cfg, err)
	}

	literal := hub.Clone()
	literal.Fields["password"] = registry.Redacted
	cfg, _, err = FromRegistries(ctx, []registry.Registry{literal}, nil)
	if err != nil || cfg.Auths[HubKey].Password.Reveal() != registry.Redacted {
		t.Fatalf("a password that reads REDACTED: %v %v", cfg, err)
	}
}

// An ECR record saved as keys and region (wildcard server) gets the concrete host its
// provider learnt from the token's proxy endpoint (Credentials.Server), without WithHost; a
// host outside the wildcard is refused.
func TestFromRegistriesUsesLearntHost(t *testing.T) {
	ctx := context.Background()
	ecr := registry.Registry{ID: "e", Name: "ecr", Kind: registry.KindECR, Fields: map[string]string{"region": "eu-west-1"}}
	reporting := func(server string) registry.ProviderFactory {
		return func(registry.Registry) (registry.Provider, error) {
			return registry.Static(registry.Credentials{Username: "AWS", Password: "token", Server: server}), nil
		}
	}
	cfg, _, err := FromRegistries(ctx, []registry.Registry{ecr}, reporting("123456789012.dkr.ecr.eu-west-1.amazonaws.com"))
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := cfg.Auths["123456789012.dkr.ecr.eu-west-1.amazonaws.com"]; !ok || e.Password != "token" || len(cfg.Auths) != 1 {
		t.Fatalf("auths = %v, want the learnt host", cfg.Auths)
	}
	for _, bad := range []string{"123456789012.dkr.ecr.us-east-1.amazonaws.com", "evil.example.com", "*.dkr.ecr.eu-west-1.amazonaws.com"} {
		if _, _, err := FromRegistries(ctx, []registry.Registry{ecr}, reporting(bad)); err == nil {
			t.Errorf("credentials for %s were written for a registry covering *.dkr.ecr.eu-west-1.amazonaws.com", bad)
		}
	}
	// WithHost still wins over the learnt host.
	cfg, _, err = FromRegistries(ctx, []registry.Registry{ecr}, reporting("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
		WithHost("ecr", "999999999999.dkr.ecr.eu-west-1.amazonaws.com"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Auths["999999999999.dkr.ecr.eu-west-1.amazonaws.com"]; !ok || len(cfg.Auths) != 1 {
		t.Fatalf("auths = %v, want the WithHost host only", cfg.Auths)
	}
}
