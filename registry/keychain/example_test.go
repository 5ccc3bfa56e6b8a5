package keychain_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/keychain"
)

// The keychain maps image references to saved registries: the most specific server wins.
func ExampleKeychain_Match() {
	kc, err := keychain.New([]registry.Registry{
		{ID: "hub", Name: "Docker Hub", Kind: registry.KindDockerHub, Fields: map[string]string{"username": "me", "password": "dckr_pat_x"}},
		{ID: "gh", Name: "GitHub", Kind: registry.KindGHCR, Fields: map[string]string{"username": "me", "token": "ghp_x"}},
		{ID: "gh-org", Name: "GitHub myorg", Kind: registry.KindGHCR, Server: "ghcr.io/myorg", Fields: map[string]string{"username": "bot", "token": "ghp_y"}},
		{ID: "acr", Name: "Azure (any)", Kind: registry.KindCustom, Server: "*.azurecr.io"},
	})
	if err != nil {
		panic(err)
	}
	for _, ref := range []string{
		"postgres:17",
		"ghcr.io/myorg/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"ghcr.io/myorganisation/app",
		"contoso.azurecr.io/web:1",
		"quay.io/prometheus/node-exporter",
	} {
		r, ok := kc.Match(ref)
		if !ok {
			fmt.Printf("%s -> anonymous\n", ref)
			continue
		}
		fmt.Printf("%s -> %s (password %s)\n", ref, r.Name, r.Fields["password"]+r.Fields["token"])
	}
	// Output:
	// postgres:17 -> Docker Hub (password REDACTED)
	// ghcr.io/myorg/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef -> GitHub myorg (password REDACTED)
	// ghcr.io/myorganisation/app -> GitHub (password REDACTED)
	// contoso.azurecr.io/web:1 -> Azure (any) (password )
	// quay.io/prometheus/node-exporter -> anonymous
}

// The keychain plugs into go-containerregistry: remote.WithAuthFromKeychain(kc).
func ExampleKeychain_Resolve() {
	kc, _ := keychain.New([]registry.Registry{
		{Name: "harbor", Kind: registry.KindHarbor, Server: "harbor.example.com",
			Fields: map[string]string{"username": "robot$ci", "password": "s3cr3t"}},
	})
	for _, ref := range []string{"harbor.example.com/team/app:1.0", "docker.io/library/alpine"} {
		parsed, err := name.ParseReference(ref)
		if err != nil {
			panic(err)
		}
		auth, _ := kc.Resolve(parsed.Context())
		cfg, _ := authn.Authorization(context.Background(), auth)
		fmt.Printf("%s: user %q, has password %v\n", ref, cfg.Username, cfg.Password != "")
	}
	// Output:
	// harbor.example.com/team/app:1.0: user "robot$ci", has password true
	// docker.io/library/alpine: user "", has password false
}

// Pull with the keychain for the credentials and Keychain.Transport for the wire:
//
//	tr, err := kc.Transport(ref)
//	img, err := remote.Image(r, remote.WithAuthFromKeychain(kc), remote.WithTransport(tr))
//
// The transport of a record saved in the secure (or custom CA) mode never speaks plain
// http, so go-containerregistry's fallback to http for private hosts cannot carry the
// credentials; nothing is dialled here.
func ExampleKeychain_Transport() {
	kc, err := keychain.New([]registry.Registry{{
		Name: "team", Kind: registry.KindCustom, Server: "registry.internal.example:5000",
		Fields: map[string]string{"username": "robot", "password": "s3cret"},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	tr, err := kc.Transport("registry.internal.example:5000/team/app:v1")
	if err != nil {
		fmt.Println(err)
		return
	}
	req, _ := http.NewRequest(http.MethodGet, "http://registry.internal.example:5000/v2/", nil)
	_, err = tr.RoundTrip(req)
	fmt.Println(errors.Is(err, registry.ErrHTTPInSecureMode))
	// Output: true
}

// ExampleShadows: a Public docker.io entry saved beside Docker Hub credentials. The
// Keychain uses the credentials; Shadows says so, for the console to warn at save.
func ExampleShadows() {
	regs := []registry.Registry{
		{ID: "public", Name: "Docker Hub (public)", Kind: registry.KindPublic, Server: "docker.io"},
		{ID: "hub", Name: "Docker Hub", Kind: registry.KindDockerHub, Fields: map[string]string{"username": "alice", "password": "dckr_pat_x"}},
	}
	for _, s := range keychain.Shadows(regs) {
		fmt.Println(s.Shadowed, "shadowed by", s.By, "whole:", s.Whole)
		fmt.Println(s.Reason)
	}
	// Output:
	// public shadowed by hub whole: true
	// "Docker Hub (public)" is never used: "Docker Hub" has the same server docker.io and is used instead, because "Docker Hub" has credentials and "Docker Hub (public)" pulls anonymously
}
