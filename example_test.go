package regcred_test

import (
	"context"
	"fmt"
	"os"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/providers"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

// The whole flow without a network: save registries in a catalog, resolve image
// references through the Keychain, and build the .dockerconfigjson a platform deploys.
func Example() {
	ctx := context.Background()
	cat := catalog.New(memory.New(), catalog.WithProviderFactory(providers.Factory()))
	for _, r := range []registry.Registry{
		{ID: "ghcr", Name: "GitHub", Kind: registry.KindGHCR, Owner: "alice",
			Fields: map[string]string{"username": "alice", "token": "ghp_example"}},
		{ID: "team", Name: "Team registry", Kind: registry.KindCustom, Server: "registry.example.com:5000", Owner: "alice",
			Fields: map[string]string{"username": "deploy", "password": "s3cret"}},
	} {
		saved, err := cat.Add(ctx, r)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("saved", saved, saved.Fields)
	}

	kc, _ := cat.Keychain(ctx)
	for _, image := range []string{"ghcr.io/alice/app:v1", "registry.example.com:5000/api", "postgres:17"} {
		creds, reg, _ := kc.Credentials(ctx, image)
		fmt.Printf("%-30s -> %-14q %v\n", image, reg.Name, creds)
	}

	// List and Get are redacted views; the platform builds the config from its own records.
	cfg, _, _ := dockerconfig.FromRegistries(ctx, []registry.Registry{
		{ID: "team", Name: "Team registry", Kind: registry.KindCustom, Server: "registry.example.com:5000",
			Fields: map[string]string{"username": "deploy", "password": "s3cret"}},
	}, providers.Factory())
	cfg.Encode(os.Stdout)
	// Output:
	// saved registry "GitHub" (ghcr, ghcr.io) map[token:REDACTED username:alice]
	// saved registry "Team registry" (custom, registry.example.com:5000) map[password:REDACTED username:deploy]
	// ghcr.io/alice/app:v1           -> "GitHub"       credentials{user=alice password=REDACTED}
	// registry.example.com:5000/api  -> "Team registry" credentials{user=deploy password=REDACTED}
	// postgres:17                    -> ""             credentials{anonymous}
	// {"auths":{"registry.example.com:5000":{"username":"deploy","password":"s3cret","auth":"ZGVwbG95OnMzY3JldA=="}}}
}
