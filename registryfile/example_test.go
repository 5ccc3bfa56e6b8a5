package registryfile_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registryfile"
)

func ExampleDecode() {
	const file = `
- name: GitHub Registry
  type: GHCR
  credentials:
    username: my-github-user
    token: ghp_xxxxxxxxxxxx
- name: Private Registry
  type: Custom
  url: registry.mycompany.com
  credentials:
    username: admin
    password: secretpassword
`
	regs, err := registryfile.Decode(strings.NewReader(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range regs {
		fmt.Printf("%s %s %v\n", r.ID, r.Host(), r.Redacted().Fields)
	}
	// Output:
	// github-registry ghcr.io map[token:REDACTED username:my-github-user]
	// private-registry registry.mycompany.com map[password:REDACTED username:admin]
}

// Every problem of the file comes at once, each naming the line, the entry and the field;
// a typo gets the nearest field name.
func ExampleProblems() {
	const file = `registries:
  - name: hub
    type: Docker Hub
    credentials:
      username: me
      passwrod: dckr_pat_xxx
      username: again
`
	_, err := registryfile.Decode(strings.NewReader(file), registryfile.WithFileName("registries.yaml"))
	for i, p := range registryfile.Problems(err) {
		if i < 2 {
			fmt.Println(p)
			continue
		}
		var fe *registry.FieldError
		if errors.As(p, &fe) {
			fmt.Printf("%s:%d: field %s\n", p.File, p.Line, fe.Field)
		}
	}
	// Output:
	// registries.yaml:7: registry "hub" (entry 1): field credentials.username: is given twice (first on line 5) (keep one)
	// registries.yaml:6: registry "hub" (entry 1): field credentials.passwrod: is not a field of Docker Hub (did you mean "password"? known fields: username, password, url)
	// registries.yaml:2: field password
}

// The product documents' shape: no type, username and password beside the url. The kind
// is inferred from the host and said.
func ExampleDecodeEntries() {
	const file = `
name: GitHub Registry
url: ghcr.io
username: my-github-user
password: ghp_xxxxxxxxxxxx
---
name: Private Registry
url: registry.mycompany.com
username: admin
password: secretpassword
`
	entries, err := registryfile.DecodeEntries(strings.NewReader(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range entries {
		fmt.Printf("line %d: %v: %s\n", e.Line, e.Registry, e.Inferred)
	}
	// Output:
	// line 2: registry "GitHub Registry" (ghcr, ghcr.io): type ghcr (GitHub Container Registry) inferred from host ghcr.io
	// line 7: registry "Private Registry" (custom, registry.mycompany.com): type custom (Custom / self-hosted) inferred from host registry.mycompany.com
}
