package registry_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/regcred/regcred/registry"
)

// Pull with the keychain for the credentials and Keychain.Transport for the wire:
//
//	tr, err := kc.Transport(ref)
//	img, err := remote.Image(r, remote.WithAuthFromKeychain(kc), remote.WithTransport(tr))
//
// The transport of a record saved in the secure (or custom CA) mode never speaks plain
// http, so go-containerregistry's fallback to http for private hosts cannot carry the
// credentials; nothing is dialled here.
func ExampleKeychain_Transport() {
	kc, err := registry.NewKeychain([]registry.Registry{{
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
