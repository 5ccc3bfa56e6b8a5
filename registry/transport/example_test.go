package transport_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/transport"
)

// A record in the secure mode is never reached over plain http, whatever URL a client
// builds.
func ExampleForTLS() {
	tr, err := transport.ForTLS(registry.TLS{Mode: registry.TLSSecure})
	if err != nil {
		panic(err)
	}
	_, err = (&http.Client{Transport: tr}).Get("http://127.0.0.1:1/v2/")
	fmt.Println(errors.Is(err, registry.ErrHTTPInSecureMode))
	// Output: true
}
