package providers_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/regcred/regcred/providers"
	"github.com/regcred/regcred/providers/cache"
	"github.com/regcred/regcred/registry"
)

func ExampleFor() {
	ghcr := registry.Registry{Name: "My GHCR", Kind: registry.KindGHCR,
		Fields: map[string]string{"username": "myorg", "token": "ghp_xxxxxxxxxxxx"}}
	p, _ := providers.For(ghcr)
	c, _ := p.Credentials(context.Background())
	fmt.Println(c, cache.IsCached(p))

	ecr := registry.Registry{Name: "Production ECR", Kind: registry.KindECR, Fields: map[string]string{
		"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "region": "us-east-1"}}
	p, _ = providers.For(ecr) // no call yet: the first Credentials fetches, then the cache serves
	fmt.Println(cache.IsCached(p))

	ecr.Server = "123456789012.dkr.ecr.eu-west-3.amazonaws.com"
	_, err := providers.For(ecr)
	var fe *registry.FieldError
	fmt.Println(errors.As(err, &fe), fe.Field)
	fmt.Println(err)
	// Output:
	// credentials{user=myorg password=REDACTED} false
	// true
	// true region
	// provider Production ECR: field region: is us-east-1 but the registry 123456789012.dkr.ecr.eu-west-3.amazonaws.com is in eu-west-3 (ECR tokens are regional: set region to eu-west-3)
}
