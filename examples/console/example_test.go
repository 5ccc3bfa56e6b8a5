package main

import (
	"encoding/json"
	"fmt"

	"github.com/regcred/regcred/registry"
)

// The JSON API's record is the seeds' shape. A request body is read with fromAPI (the
// documents' flat shape too: no type, the token as "password"); the answer (toAPI) names
// the stored secrets and never carries them.
func Example_apiShape() {
	name, url, user, token := "My GHCR", "ghcr.io", "myorg", "ghp_xxxxxxxxxxxx"
	r, inf, err := fromAPI(apiInput{Name: &name, URL: &url, Username: &user, Password: &token}, registry.Registry{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(inf)
	r.ID, r.Version, r.Owner = "reg-1", 1, "admin"
	out := toAPI(r.Redacted(), nil)
	out.Created, out.Updated = nil, nil
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	// Output:
	// type ghcr (GitHub Container Registry) inferred from host ghcr.io
	// {"id":"reg-1","name":"My GHCR","type":"GHCR","url":"ghcr.io","credentials":{"username":"myorg"},"storedSecrets":["token"],"default":false,"owner":"admin","version":1}
}

// Every input of a kind's form has its own problems: the form puts each under its input.
func Example_formErrors() {
	values := map[string]string{"type": "ECR", "name": "", "region": "nowhere"}
	r, _ := registry.FromForm(values)
	f := buildForm(registry.KindECR, values, nil, r.Validate())
	for _, g := range f.Groups {
		for _, fd := range g.Fields {
			for _, e := range fd.Errors {
				fmt.Printf("%s: %s\n", fd.Name, e)
			}
		}
	}
	// Output:
	// name: is empty: give the registry a name to show in lists
	// region: is not an AWS region: e.g. us-east-1, eu-west-3, cn-north-1
}
