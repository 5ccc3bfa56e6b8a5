package registry_test

import (
	"context"
	"fmt"
	"time"

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

// A platform's Test Connection button on an unsaved edit: the draft is tested by the same
// rules Update would save it with, so a blank password field tests the stored password.
func ExampleCatalog_TestDraft() {
	ctx := context.Background()
	cat := registry.NewCatalog(registry.NewMemoryStore())
	defer cat.Close()
	saved, _ := cat.Add(ctx, registry.Registry{Name: "harbor", Kind: registry.KindHarbor, Server: "harbor.invalid",
		Fields: map[string]string{"username": "robot$ci", "password": "s3cret"}})

	draft := saved // the redacted view, edited in the form
	draft.Server = "harbor-new.invalid"
	rep, err := cat.TestDraft(ctx, draft, registry.WithTestOptions(registry.WithTestTimeout(5*time.Second)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Server, rep.Step(registry.StepFields).Verdict, rep.Failed().Name)
	// Output: harbor-new.invalid ok dns
}
