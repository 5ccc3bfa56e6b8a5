package swarm_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

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

// Login reports the daemon's verdict; a refusal is registry.ErrUnauthorized.
func ExampleLogin() {
	// In real use: cli, _ := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	_, err := swarm.Login(context.Background(), refusingDaemon{}, "registry.example.com",
		registry.Credentials{Username: "deploy", Password: "wrong"})
	fmt.Println(errors.Is(err, registry.ErrUnauthorized))
	fmt.Println(err)
	// Output:
	// true
	// engine login registry.example.com: unauthorized: the docker daemon says: login attempt to https://registry.example.com/v2/ failed with status: 401 Unauthorized
}
