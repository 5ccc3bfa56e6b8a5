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

// A platform's "Container Registries" page with many users: each request acts as its
// signed-in principal; add, rotate, default (an admin's), guarded delete.
func ExampleCatalog() {
	alice := catalog.WithPrincipal(context.Background(), catalog.Principal{User: "alice"})
	bob := catalog.WithPrincipal(context.Background(), catalog.Principal{User: "bob"})
	admin := catalog.WithPrincipal(context.Background(), catalog.Principal{User: "root", Roles: []string{catalog.RoleAdmin}})
	ctx := alice
	inUse := map[string][]string{}
	n := 0
	cat := catalog.New(memory.New(),
		catalog.WithNow(func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }),
		catalog.WithIDs(func() string { n++; return fmt.Sprintf("reg-%d", n) }),
		catalog.WithUsage(func(ctx context.Context, r registry.Registry) ([]string, error) { return inUse[r.ID], nil }),
		catalog.WithAuthorizer(catalog.DefaultPolicy()),
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

	fmt.Println(cat.SetDefault(ctx, hub.ID))
	_ = cat.SetDefault(admin, hub.ID)
	d, _ := cat.Default(ctx)
	fmt.Println("default:", d.Name)

	inUse[gh.ID] = []string{"project/web"}
	fmt.Println(cat.Delete(bob, gh.ID))
	fmt.Println(cat.Delete(alice, gh.ID))

	kc, _ := cat.Keychain(ctx)
	c, r, _ := kc.Credentials(ctx, "ghcr.io/octocat/app")
	fmt.Println(r.Name, c.Username, c.Password.Reveal())
	// Output:
	// reg-1 1 false REDACTED
	// rotated to version 2
	// true
	// alice may not set-default registry "Docker Hub": only an admin may choose the default registry: forbidden
	// default: Docker Hub
	// bob may not delete registry "GitHub": only its owner or an admin may: forbidden
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

	// The stored password goes only where it was saved for: a draft that moves the server
	// must carry it again.
	moved := saved // the redacted view, edited in the form
	moved.Server = "harbor-new.invalid"
	_, err := cat.TestDraft(ctx, moved)
	fmt.Println(err)

	draft := saved
	draft.Name = "harbor (renamed)"
	rep, err := cat.TestDraft(ctx, draft, catalog.WithTestOptions(conntest.WithTimeout(5*time.Second)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Server, rep.Step(registry.StepFields).Verdict, rep.Failed().Name)
	// Output:
	// edit harbor: field password: re-enter the password: the server changed (a saved secret is sent only to the endpoint it was saved for)
	// harbor.invalid ok dns
}

// A leader-only notifier: it reads the change log from the last sequence it handled, so a
// restart (or a failover to another replica, over store/sqlite or store/postgres) loses
// nothing and sends nothing twice. Entries name the fields that changed, never values.
func ExampleCatalog_Changes() {
	ctx := catalog.WithPrincipal(context.Background(), catalog.Principal{User: "alice"})
	cat := catalog.New(memory.New())
	r, _ := cat.Add(ctx, registry.Registry{Name: "ghcr", Kind: registry.KindGHCR,
		Fields: map[string]string{"username": "octocat", "token": "ghp_old"}})
	r.Fields["token"] = "ghp_new"
	r, _ = cat.Update(ctx, r)
	cat.Update(ctx, r) // the form sent back unchanged: nothing is written or logged

	var handled uint64 // the notifier's checkpoint, kept where it survives a restart
	entries, _ := cat.Changes(ctx, handled, 100)
	for _, a := range entries {
		fmt.Println(a.Seq, a.Actor, a.Action, a.Name, a.Version, a.Fields)
		handled = a.Seq
	}
	// Output:
	// 1 alice add ghcr 1 []
	// 2 alice rotate ghcr 2 [token]
}
