package main

import (
	"context"
	"os"
)

// The registries file in the product documents' shape, validated by the CLI.
func Example_validate() {
	dir, _ := os.MkdirTemp("", "regcred-example")
	defer os.RemoveAll(dir)
	wd, _ := os.Getwd()
	os.Chdir(dir)
	defer os.Chdir(wd)
	file := "registries.yaml"
	os.WriteFile(file, []byte(`
- name: GitHub Registry
  type: GHCR
  default: true
  credentials: {username: my-github-user, token: ghp_xxxxxxxxxxxx}
- name: Production ECR
  type: ECR
  credentials: {region: eu-west-3}
- name: Public images
  type: Public
`), 0o600)
	run(context.Background(), []string{"-f", file, "validate"}, os.Stdout, os.Stdout)
	// Output:
	// ok  GitHub Registry          ghcr        ghcr.io (default)
	// ok  Production ECR           ecr         *.dkr.ecr.eu-west-3.amazonaws.com
	// ok  Public images            public      docker.io
	// registries.yaml: 3 registries, all valid
}
