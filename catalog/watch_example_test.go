package catalog_test

import (
	"context"
	"fmt"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

// Two Catalogs over one Store (two replicas of a platform): a rotation through one is
// reported to the other's subscribers, and its Keychain and providers follow without
// Invalidate.
func ExampleCatalog_Subscribe() {
	ctx := context.Background()
	store := memory.New() // or a FileStore, SQLite or PostgreSQL store
	replica1 := catalog.New(store)
	replica2 := catalog.New(store)
	defer replica1.Close()
	defer replica2.Close()

	events := replica2.Subscribe(ctx)
	show := func() {
		e := <-events
		fmt.Println(e.Op, e.Version, e.Registry.Fields["token"])
	}
	r, _ := replica1.Add(ctx, registry.Registry{Name: "ghcr", Kind: registry.KindGHCR,
		Fields: map[string]string{"username": "octocat", "token": "ghp_old"}})
	show()
	r.Fields["token"] = "ghp_new" // the form: a new token typed in
	replica1.Update(ctx, r)
	show()
	replica1.Delete(ctx, r.ID)
	show()
	// Output:
	// add 1 REDACTED
	// rotate 2 REDACTED
	// delete 2 REDACTED
}

// The one provider of a registry per process: the Keychain, adapters built with
// ProviderFactory and direct callers share it, so a token kind fetches one token for all.
func ExampleCatalog_Provider() {
	ctx := context.Background()
	cat := catalog.New(memory.New())
	defer cat.Close()
	r, _ := cat.Add(ctx, registry.Registry{Name: "quay", Kind: registry.KindQuay,
		Fields: map[string]string{"username": "org+robot", "token": "s3cret"}})

	p, _ := cat.Provider(ctx, r.ID)
	kc, _ := cat.Keychain(ctx)
	fromKeychain, _ := kc.Provider(r.ID)
	fromFactory, _ := cat.ProviderFactory()(r) // r is the redacted view: resolved by ID
	c, _ := p.Credentials(ctx)
	fmt.Println(p == fromKeychain, p == fromFactory, c.Username, c.Password)
	// Output: true true org+robot REDACTED
}
