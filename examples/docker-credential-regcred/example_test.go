package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
)

// What docker does for `docker pull registry.example.com:5000/app` when config.json says
// {"credHelpers": {"registry.example.com:5000": "regcred"}}: it runs the helper with "get"
// and the server on stdin, and reads the JSON answer.
func Example_get() {
	dir, _ := os.MkdirTemp("", "credhelper-example-")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "registries.yaml")
	os.WriteFile(file, []byte(`registries:
  - name: team
    type: Custom
    url: registry.example.com:5000
    credentials: {username: deploy, password: s3cret}
`), 0o600)
	os.Setenv("REGCRED_CONFIG", file)
	defer os.Unsetenv("REGCRED_CONFIG")

	run(context.Background(), []string{"get"}, strings.NewReader("registry.example.com:5000\n"), os.Stdout, os.Stderr)
	run(context.Background(), []string{"get"}, strings.NewReader("other.example.com\n"), os.Stdout, os.Stderr)
	run(context.Background(), []string{"store"}, strings.NewReader(`{"ServerURL":"x","Username":"u","Secret":"s"}`), os.Stdout, os.Stderr)
	// Output:
	// {"ServerURL":"registry.example.com:5000","Username":"deploy","Secret":"s3cret"}
	// credentials not found in native keychain
	// docker-credential-regcred is read-only: credentials come from the registries file ($REGCRED_CONFIG or ~/.config/regcred/registries.yaml); change the saved registry there instead of running docker login/logout
}
