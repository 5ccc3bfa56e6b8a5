package catalog_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
	"github.com/regcred/regcred/store/memory"
)

// TestCatalogAgainstRealRegistry walks a platform's flow against Debian's docker-registry
// over TLS from a private CA: save (custom CA mode), test by ID, pull through the Keychain
// with the Keychain's transport, rotate to a wrong password (the test fails, the pull is
// refused), rotate back (both work again, no restart).
func TestCatalogAgainstRealRegistry(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRegistry(t, testenv.WithTLS(), testenv.WithBasicAuth("alice", "s3cret"))
	ref := srv.Push(t, "team/app:v1")
	cat := catalog.New(memory.New())
	saved, err := cat.Add(ctx, registry.Registry{
		Name: "team", Kind: registry.KindCustom, Server: srv.Host, Owner: "alice",
		Fields: map[string]string{"username": "alice", "password": "s3cret"},
		TLS:    registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(srv.CAPEM)},
	})
	if err != nil {
		t.Fatal(err)
	}
	pull := func() error {
		kc, err := cat.Keychain(ctx)
		if err != nil {
			return err
		}
		tr, err := kc.Transport(ref)
		if err != nil {
			return err
		}
		r, err := name.ParseReference(ref)
		if err != nil {
			return err
		}
		_, err = remote.Image(r, remote.WithAuthFromKeychain(kc), remote.WithTransport(tr), remote.WithContext(ctx))
		return err
	}
	check := func(wantOK bool) {
		t.Helper()
		rep, err := cat.Test(ctx, saved.ID, conntest.WithImage(ref))
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() != wantOK {
			t.Fatalf("Catalog.Test OK=%v, want %v:\n%s", rep.OK(), wantOK, rep)
		}
		if err := pull(); (err == nil) != wantOK {
			t.Fatalf("pull through the keychain: err=%v, want success=%v", err, wantOK)
		}
	}
	check(true)

	// The Keychain's transport is the registry's TLS mode: the default transport refuses
	// the private CA.
	r, _ := name.ParseReference(ref)
	kc, _ := cat.Keychain(ctx)
	if _, err := remote.Image(r, remote.WithAuthFromKeychain(kc)); err == nil {
		t.Fatal("pull with the default transport trusted the private CA")
	}

	saved.Fields["password"] = "rotated-wrong" // the form sends back the redacted view
	if saved, err = cat.Update(ctx, saved); err != nil {
		t.Fatal(err)
	}
	check(false)
	rep, _ := cat.Test(ctx, saved.ID)
	if !errors.Is(rep.Err(), registry.ErrUnauthorized) {
		t.Fatalf("wrong password: %v, want ErrUnauthorized", rep.Err())
	}
	saved.Fields["password"] = "s3cret"
	if _, err = cat.Update(ctx, saved); err != nil {
		t.Fatal(err)
	}
	check(true)

	if _, err := cat.Test(ctx, "no-such-id"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("Test of an unknown id: %v, want ErrNotFound", err)
	}
}
