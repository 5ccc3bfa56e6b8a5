package conntest_test

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
)

// ExampleTest tests a TLS registry whose certificate comes from a private CA (custom CA
// mode), with an image that exists and one that does not.
func ExampleTest() {
	// An in-process registry over TLS, holding one image.
	srv := httptest.NewUnstartedServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	ref, _ := name.ParseReference(host + "/team/app:v1")
	img, _ := random.Image(512, 1)
	if err := remote.Write(ref, img, remote.WithTransport(srv.Client().Transport)); err != nil {
		log.Fatal(err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

	reg := registry.Registry{
		Name:   "team registry",
		Kind:   registry.KindPublic,
		Server: host,
		TLS:    registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(caPEM)},
	}
	rep := conntest.Test(context.Background(), reg, conntest.WithImage("team/app:v1"))
	for _, s := range rep.Steps {
		fmt.Printf("%-6s %s\n", s.Name, s.Verdict)
	}
	fmt.Println("ok:", rep.OK(), "round trips:", rep.RoundTrips)

	rep = conntest.Test(context.Background(), reg, conntest.WithImage("team/app:v2"))
	fmt.Println("ok:", rep.OK(), "not found:", errors.Is(rep.Err(), registry.ErrNotFound))
	fmt.Println("cause:", strings.Replace(rep.Failed().Cause, host, "HOST", 1))

	// Secure-only mode does not trust the private CA, and says what to do.
	reg.TLS = registry.TLS{}
	rep = conntest.Test(context.Background(), reg)
	fmt.Println("unknown authority:", errors.Is(rep.Err(), registry.ErrTLSUnknownAuthority))
	fmt.Println("fix:", rep.Failed().Fix)
	// Output:
	// fields ok
	// dns    ok
	// tcp    ok
	// tls    ok
	// ping   ok
	// auth   ok
	// image  ok
	// push   skipped
	// ok: true round trips: 2
	// ok: false not found: true
	// cause: the image team/app:v2 does not exist on HOST (or this account cannot see the repository)
	// unknown authority: true
	// fix: choose the custom CA mode and paste the registry's CA certificate (PEM); use the insecure mode only as a last resort
}

// ExampleReport_Outcome: Amazon ECR's server is a wildcard, so without an image the test
// has no host to reach. It is not tested, and says what the user can enter.
func ExampleReport_Outcome() {
	ecr := registry.Registry{Name: "ecr", Kind: registry.KindECR, Fields: map[string]string{
		"region": "eu-west-1", "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}
	rep := conntest.Test(context.Background(), ecr)
	fmt.Println(rep.Outcome(), rep.Tested())
	fmt.Println(rep.Untested().Fix)
	// Output:
	// not tested false
	// enter an image this registry holds, with its full host (for example 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:latest), to test a pull from it
}
