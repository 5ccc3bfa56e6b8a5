package registry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/regcred/regcred/registry"
)

// A platform renders its "add registry" form from the kind's schema.
func ExampleKind_Fields() {
	for _, f := range registry.KindECR.Fields() {
		fmt.Printf("%-16s %-18q required=%-5v secret=%v\n", f.Name, f.Label, f.Required, f.Secret)
	}
	// Output:
	// region           "AWS region"       required=true  secret=false
	// accessKeyId      "Access key ID"    required=false secret=false
	// secretAccessKey  "Secret access key" required=false secret=true
	// sessionToken     "Session token"    required=false secret=true
	// roleArn          "Role to assume"   required=false secret=false
}

// Validation names the field, says what is wrong and what to do.
func ExampleRegistry_Validate() {
	r := registry.Registry{Name: "prod", Kind: registry.KindECR, Fields: map[string]string{
		"region":          "eu-west-1",
		"accessKeyId":     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", // the secret, pasted in the wrong box
		"secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	}}
	err := r.Validate()
	var fe *registry.FieldError
	if errors.As(err, &fe) {
		fmt.Println("field:", fe.Field)
	}
	fmt.Println(errors.Is(err, registry.ErrInvalid))
	fmt.Println(err)
	// Output:
	// field: accessKeyId
	// true
	// field accessKeyId: is not an AWS access key ID (20 characters starting with AKIA (or ASIA for temporary keys); did you swap it with the secret access key?)
}

// The keychain maps image references to saved registries: the most specific server wins.
func ExampleKeychain_Match() {
	kc, err := registry.NewKeychain([]registry.Registry{
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
	kc, _ := registry.NewKeychain([]registry.Registry{
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

// A platform's "Container Registries" page: add, rotate, default, guarded delete.
func ExampleCatalog() {
	ctx := context.Background()
	inUse := map[string][]string{}
	n := 0
	cat := registry.NewCatalog(registry.NewMemoryStore(),
		registry.WithNow(func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }),
		registry.WithIDs(func() string { n++; return fmt.Sprintf("reg-%d", n) }),
		registry.WithUsage(func(ctx context.Context, r registry.Registry) ([]string, error) { return inUse[r.ID], nil }),
	)
	gh, _ := cat.Add(ctx, registry.Registry{Name: "GitHub", Kind: registry.KindGHCR, Owner: "alice",
		Fields: map[string]string{"username": "octocat", "token": "ghp_old"}})
	hub, _ := cat.Add(ctx, registry.Registry{Name: "Docker Hub", Kind: registry.KindDockerHub, Owner: "alice",
		Fields: map[string]string{"username": "me", "password": "dckr_pat_x"}})
	fmt.Println(gh.ID, gh.Version, gh.Default, gh.Fields["token"])

	// Rotate the token: the form sends the redacted view back with the new value.
	form := gh
	form.Fields["token"] = "ghp_new"
	gh, _ = cat.Update(ctx, form)
	fmt.Println("rotated to version", gh.Version)
	_, err := cat.Update(ctx, form) // made from version 1 again
	fmt.Println(errors.Is(err, registry.ErrConflict))

	_ = cat.SetDefault(ctx, hub.ID)
	d, _ := cat.Default(ctx)
	fmt.Println("default:", d.Name)

	inUse[gh.ID] = []string{"project/web"}
	fmt.Println(cat.Delete(ctx, gh.ID, "bob"))
	fmt.Println(cat.Delete(ctx, gh.ID, "alice"))

	kc, _ := cat.Keychain(ctx)
	c, r, _ := kc.Credentials(ctx, "ghcr.io/octocat/app")
	fmt.Println(r.Name, c.Username, c.Password.Reveal())
	// Output:
	// reg-1 1 true REDACTED
	// rotated to version 2
	// true
	// default: Docker Hub
	// delete GitHub: "alice" created it, "bob" asked: not the owner
	// delete GitHub: in use by 1 reference: project/web (remove them from it first)
	// GitHub octocat ghp_new
}
