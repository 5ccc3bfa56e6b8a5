package swarm_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	dockerregistry "github.com/docker/docker/api/types/registry"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/swarm"
)

// The X-Registry-Auth value for a service whose image lives on a private registry.
func ExampleEncodeAuth() {
	creds := registry.Credentials{Username: "deploy", Password: "s3cret"}
	auth, err := swarm.EncodeAuth(creds, "registry.example.com:5000")
	if err != nil {
		panic(err)
	}
	raw, _ := base64.URLEncoding.DecodeString(auth)
	fmt.Println(string(raw))
	fmt.Println(swarm.ServerAddress("docker.io"))
	// Output:
	// {"username":"deploy","password":"s3cret","serveraddress":"registry.example.com:5000"}
	// https://index.docker.io/v1/
}

// refusingDaemon stands in for *client.Client: it refuses every login as dockerd 20.10 does.
type refusingDaemon struct{}

func (refusingDaemon) RegistryLogin(context.Context, dockerregistry.AuthConfig) (dockerregistry.AuthenticateOKBody, error) {
	return dockerregistry.AuthenticateOKBody{}, errors.New("Error response from daemon: login attempt to https://registry.example.com/v2/ failed with status: 401 Unauthorized")
}

// Login reports the daemon's verdict; a refusal is registry.ErrUnauthorized. Pass the saved
// record's TLS settings (WithTLS): they decide whether the daemon may get the credentials.
func ExampleLogin() {
	// In real use: cli, _ := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	rec := registry.Registry{Server: "https://registry.example.com"} // rec.TLS: the secure mode
	_, err := swarm.Login(context.Background(), refusingDaemon{}, "registry.example.com",
		registry.Credentials{Username: "deploy", Password: "wrong"}, swarm.WithTLS(rec.TLS))
	fmt.Println(errors.Is(err, registry.ErrUnauthorized))
	fmt.Println(err)
	// Output:
	// true
	// engine login registry.example.com: unauthorized: the docker daemon says: login attempt to https://registry.example.com/v2/ failed with status: 401 Unauthorized
}

// countingDaemon stands in for *client.Client and counts the logins it is asked for.
type countingDaemon struct{ logins *int }

func (d countingDaemon) RegistryLogin(context.Context, dockerregistry.AuthConfig) (dockerregistry.AuthenticateOKBody, error) {
	*d.logins++
	return dockerregistry.AuthenticateOKBody{Status: "Login Succeeded"}, nil
}

// A registry that speaks plain http never gets a secure record's credentials: the daemon
// would retry it over http with them. Only a record saved in the insecure mode logs in.
func ExampleWithTLS() {
	plain := httptest.NewServer(http.NotFoundHandler()) // plain http on loopback
	defer plain.Close()
	host := strings.TrimPrefix(plain.URL, "http://")
	creds := registry.Credentials{Username: "deploy", Password: "s3cret"}
	var logins int
	daemon := countingDaemon{&logins}

	_, err := swarm.Login(context.Background(), daemon, host, creds) // no option: secure
	fmt.Println(errors.Is(err, registry.ErrHTTPInSecureMode), logins)

	res, err := swarm.Login(context.Background(), daemon, host, creds,
		swarm.WithTLS(registry.TLS{Mode: registry.TLSInsecure}))
	fmt.Println(res.Status, err, logins)
	// Output:
	// true 0
	// Login Succeeded <nil> 1
}
