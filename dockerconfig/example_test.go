package dockerconfig_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/registry"
)

// Build a .dockerconfigjson from saved registries, as a platform does before it writes a
// Kubernetes pull Secret.
func ExampleFromRegistries() {
	regs := []registry.Registry{
		{Name: "hub", Kind: registry.KindDockerHub, Fields: map[string]string{"username": "alice", "password": "dckr_pat_x"}},
		{Name: "team", Kind: registry.KindGHCR, Server: "ghcr.io/acme", Fields: map[string]string{"username": "octocat", "token": "ghp_y"}},
		{Name: "mirror", Kind: registry.KindPublic},
	}
	cfg, expires, err := dockerconfig.FromRegistries(context.Background(), regs, registry.StaticFactory)
	if err != nil {
		fmt.Println(err)
		return
	}
	data, _ := cfg.Marshal()
	fmt.Println(string(data))
	fmt.Println("expires:", expires.IsZero() == false)
	fmt.Println(cfg) // printing never shows a secret
	// Output:
	// {"auths":{"ghcr.io/acme":{"username":"octocat","password":"ghp_y","auth":"b2N0b2NhdDpnaHBfeQ=="},"https://index.docker.io/v1/":{"username":"alice","password":"dckr_pat_x","auth":"YWxpY2U6ZGNrcl9wYXRfeA=="}}}
	// expires: false
	// dockerconfig{auths=[ghcr.io/acme https://index.docker.io/v1/]}
}

// Read a config.json and find the credentials for a registry under any of the names
// docker accepts.
func ExampleDecode() {
	doc := `{
	  "auths": {
	    "https://index.docker.io/v1/": {"auth": "YWxpY2U6czNjcmV0"},
	    "http://localhost:5000/v2/": {"username": "bob", "password": "pw"}
	  },
	  "psFormat": "table {{.ID}}"
	}`
	cfg, err := dockerconfig.Decode(strings.NewReader(doc))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, server := range []string{"docker.io", "localhost:5000/team/app", "quay.io"} {
		c, err := cfg.Get(context.Background(), server)
		switch {
		case errors.Is(err, registry.ErrNotFound):
			fmt.Println(server, "-> none")
		case err != nil:
			fmt.Println(err)
		default:
			fmt.Println(server, "->", c)
		}
	}
	// Output:
	// docker.io -> credentials{user=alice password=REDACTED}
	// localhost:5000/team/app -> credentials{user=bob password=REDACTED}
	// quay.io -> none
}

// Key is the auths key docker uses for a server.
func ExampleKey() {
	for _, s := range []string{"docker.io", "https://GHCR.io/", "localhost:5000/v2/", "ghcr.io/acme"} {
		fmt.Println(dockerconfig.Key(s))
	}
	// Output:
	// https://index.docker.io/v1/
	// ghcr.io
	// localhost:5000
	// ghcr.io/acme
}

// Decoding errors name the entry and the field and never quote the secret.
func ExampleFormatError() {
	_, err := dockerconfig.Decode(strings.NewReader(`{"auths":{"quay.io":{"auth":"bm8tY29sb24taGVyZQ=="}}}`))
	fmt.Println(err)
	// Output:
	// decode entry "quay.io" field "auth": does not decode to username:password (no colon)
}

// Write a docker config for an isolated DOCKER_CONFIG directory: atomically, mode 0600.
func ExampleConfig_WriteFile() {
	dir, _ := os.MkdirTemp("", "docker-config-")
	defer os.RemoveAll(dir)
	cfg := dockerconfig.New()
	cfg.Set("registry.example.com:5000", registry.Credentials{Username: "ci", Password: "t0ken"})
	if err := cfg.WriteFile(dir + "/config.json"); err != nil {
		fmt.Println(err)
		return
	}
	st, _ := os.Stat(dir + "/config.json")
	fmt.Println(st.Mode().Perm())
	// Output:
	// -rw-------
}
