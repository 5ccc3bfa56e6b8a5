package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
	"github.com/regcred/regcred/store/memory"
)

// A platform's "Container Registries" page: add, rotate, default, guarded delete.
func ExampleCatalog() {
	ctx := context.Background()
	inUse := map[string][]string{}
	n := 0
	cat := catalog.New(memory.New(),
		catalog.WithNow(func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }),
		catalog.WithIDs(func() string { n++; return fmt.Sprintf("reg-%d", n) }),
		catalog.WithUsage(func(ctx context.Context, r registry.Registry) ([]string, error) { return inUse[r.ID], nil }),
	)
	gh, _ := cat.Add(ctx, registry.Registry{Name: "GitHub", Kind: registry.KindGHCR, Owner: "alice",
		Fields: map[string]string{"username": "octocat", "token": "ghp_old"}})
	hub, _ := cat.Add(ctx, registry.Registry{Name: "Docker Hub", Kind: registry.KindDockerHub, Owner: "alice",
		Fields: map[string]string{"username": "me", "password": "dckr_pat_x"}})
	fmt.Println(gh.ID, gh.Version, gh.Default, gh.Fields["token"])

	// Rotate the token: the form sends the redacted view back with the new value.
	form := gh
	form.Fields["token"] = "ghp_new"
	gh, _ = cat.Update(ctx, form)
	fmt.Println("rotated to version", gh.Version)
	_, err := cat.Update(ctx, form) // made from version 1 again
	fmt.Println(errors.Is(err, registry.ErrConflict))

	_ = cat.SetDefault(ctx, hub.ID)
	d, _ := cat.Default(ctx)
	fmt.Println("default:", d.Name)

	inUse[gh.ID] = []string{"project/web"}
	fmt.Println(cat.Delete(ctx, gh.ID, "bob"))
	fmt.Println(cat.Delete(ctx, gh.ID, "alice"))

	kc, _ := cat.Keychain(ctx)
	c, r, _ := kc.Credentials(ctx, "ghcr.io/octocat/app")
	fmt.Println(r.Name, c.Username, c.Password.Reveal())
	// Output:
	// reg-1 1 true REDACTED
	// rotated to version 2
	// true
	// default: Docker Hub
	// delete GitHub: "alice" created it, "bob" asked: not the owner
	// delete GitHub: in use by 1 reference: project/web (remove them from it first)
	// GitHub octocat ghp_new
}

// A platform's Test Connection button on an unsaved edit: the draft is tested by the same
// rules Update would save it with, so a blank password field tests the stored password.
func ExampleCatalog_TestDraft() {
	ctx := context.Background()
	cat := catalog.New(memory.New())
	defer cat.Close()
	saved, _ := cat.Add(ctx, registry.Registry{Name: "harbor", Kind: registry.KindHarbor, Server: "harbor.invalid",
		Fields: map[string]string{"username": "robot$ci", "password": "s3cret"}})

	draft := saved // the redacted view, edited in the form
	draft.Server = "harbor-new.invalid"
	rep, err := cat.TestDraft(ctx, draft, catalog.WithTestOptions(conntest.WithTimeout(5*time.Second)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Server, rep.Step(registry.StepFields).Verdict, rep.Failed().Name)
	// Output: harbor-new.invalid ok dns
}
