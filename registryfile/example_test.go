package registryfile_test

import (
	"fmt"
	"strings"

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
