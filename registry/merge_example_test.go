package registry_test

import (
	"fmt"

	"github.com/regcred/regcred/registry"
)

// Editing the way a settings page edits: the form comes back as the redacted view with
// blank or REDACTED secrets, which keep the stored ones; ClearFields clears a secret
// explicitly, so an ECR registry switches from access keys to the node's role without
// being deleted and re-created (its ID, and every Secret name derived from it, stay).
func ExampleMerge() {
	stored := registry.Registry{ID: "reg-ecr", Name: "prod", Kind: registry.KindECR, Version: 3, Default: true,
		Server: "123456789012.dkr.ecr.eu-west-3.amazonaws.com",
		Fields: map[string]string{"region": "eu-west-3", "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}

	form := stored.Redacted() // what the page showed
	form.Name = "production"
	form.Default = false // the edit page has no default switch: the default is kept
	renamed, _ := registry.Merge(stored, form)
	fmt.Println(renamed.Name, renamed.Default, renamed.Fields["secretAccessKey"] == stored.Fields["secretAccessKey"])

	delete(form.Fields, "accessKeyId")
	role, _ := registry.Merge(stored, form, registry.ClearFields("accessKeyId", "secretAccessKey"))
	fmt.Println(role.ID, role.Fields)
	// Output:
	// production true true
	// reg-ecr map[region:eu-west-3]
}
