package acr_test

import (
	"context"
	"fmt"

	"github.com/regcred/regcred/providers/acr"
)

func ExampleNew() {
	// No tenant: basic auth with the service principal, nothing to refresh.
	p, err := acr.New("myregistry.azurecr.io", "11111111-2222-3333-4444-555555555555", "client-secret")
	if err != nil {
		fmt.Println(err)
		return
	}
	c, _ := p.Credentials(context.Background())
	fmt.Println(p)
	fmt.Println(c)

	// With a tenant the Azure AD exchange runs on each call (wrap it in providers/cache).
	p, _ = acr.New("myregistry.azurecr.io", "11111111-2222-3333-4444-555555555555", "client-secret",
		acr.WithTenant("72f988bf-86f1-41af-91ab-2d7cd011db47"))
	fmt.Println(p, p.Expiring())

	_, err = acr.New("https://myregistry.azurecr.io/v2", "id", "secret")
	fmt.Println(err)
	// Output:
	// acr myregistry.azurecr.io (basic auth as 11111111-2222-3333-4444-555555555555)
	// credentials{user=11111111-2222-3333-4444-555555555555 password=REDACTED}
	// acr myregistry.azurecr.io (Azure AD: client 11111111-2222-3333-4444-555555555555 in tenant 72f988bf-86f1-41af-91ab-2d7cd011db47) true
	// field loginServer: is not an Azure Container Registry login server (NAME.azurecr.io, without https:// or a path)
}
