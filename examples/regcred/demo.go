package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
	"github.com/regcred/regcred/registry/keychain"
	"github.com/regcred/regcred/registry/transport"
	"github.com/regcred/regcred/store/memory"
)

func init() {
	register(&command{
		name:    "demo",
		usage:   "demo",
		summary: "run the whole flow against a registry it starts on loopback (needs nothing installed)",
		run:     runDemo,
	})
}

// runDemo is the main job on a fresh machine: a registry that really requires a password,
// saved, tested, pulled from through the Keychain, a wrong password diagnosed, and the
// .dockerconfigjson a platform would deploy.
func runDemo(ctx context.Context, e *env, args []string) error {
	if err := parseFlags(newFlags(e, "demo"), args); err != nil {
		return err
	}
	out := e.stdout
	step := func(n int, s string) { fmt.Fprintf(out, "\n== %d. %s\n", n, s) }

	srv, err := startDemoServer()
	if err != nil {
		return fmt.Errorf("start the demo registry: %w", err)
	}
	defer srv.Close()
	step(1, "a registry on loopback that requires a password, TLS from a private CA")
	fmt.Fprintf(out, "registry at https://%s (user %q)\n", srv.Host, srv.Username)

	step(2, "the user saves it (custom CA TLS mode); the catalog shows it redacted")
	cat := catalog.New(memory.New(), catalog.WithProviderFactory(e.providerFactory()))
	rec := registry.Registry{
		Name: "Demo registry", Kind: registry.KindCustom, Server: srv.Host, Owner: "demo-user",
		Fields: map[string]string{"username": srv.Username, "password": srv.Password},
		TLS:    registry.TLS{Mode: registry.TLSCustomCA, CABundle: srv.CAPEM},
	}
	saved, err := cat.Add(ctx, rec)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "saved %v, version %d, fields %v\n", saved, saved.Version, saved.Fields)
	rec.ID = saved.ID

	// The platform's CI pushes an image, so there is something to pull.
	tr, err := transport.DefaultCache.For(rec)
	if err != nil {
		return err
	}
	ref, err := name.ParseReference(srv.Host + "/team/app:v1")
	if err != nil {
		return err
	}
	img, err := random.Image(2048, 2)
	if err != nil {
		return err
	}
	basic := &authn.Basic{Username: srv.Username, Password: srv.Password}
	if err := remote.Write(ref, img, remote.WithAuth(basic), remote.WithTransport(tr), remote.WithContext(ctx)); err != nil {
		return fmt.Errorf("push the demo image: %w", err)
	}

	step(3, "connection test, with the image check")
	start := time.Now()
	report := conntest.Test(ctx, rec, conntest.WithImage(ref.String()), conntest.WithFactory(e.providerFactory()))
	fmt.Fprint(out, report.String())
	fmt.Fprintf(out, "(%s)\n", time.Since(start).Round(time.Millisecond))
	if !report.OK() {
		return report.Err()
	}

	step(4, "pull through the Keychain (any go-containerregistry call)")
	kc, err := cat.Keychain(ctx)
	if err != nil {
		return err
	}
	digest, err := pullWithKeychain(ctx, kc, ref)
	if err != nil {
		return fmt.Errorf("pull through the keychain: %w", err)
	}
	fmt.Fprintf(out, "pulled %s\ndigest %s\n", ref, digest)

	step(5, "a wrong password is diagnosed, not just refused")
	wrong := rec.Clone()
	wrong.Name = "Demo registry (wrong password)"
	wrong.Fields["password"] = "not-the-password"
	bad := conntest.Test(ctx, wrong, conntest.WithFactory(e.providerFactory()))
	fmt.Fprint(out, bad.String())

	step(6, "the .dockerconfigjson a platform deploys (kubernetes.io/dockerconfigjson Secret)")
	cfg, _, err := dockerconfig.FromRegistries(ctx, []registry.Registry{rec}, e.providerFactory())
	if err != nil {
		return err
	}
	if err := cfg.Encode(out); err != nil {
		return err
	}
	fmt.Fprintln(out, "\ndemo finished: saved, tested, pulled, diagnosed, exported")
	return nil
}

// pullWithKeychain pulls ref the way a platform should: the credentials from the keychain
// and the transport of the registry that matches (Keychain.Transport), which keeps them on
// TLS (no plain-http fallback unless the record is in the insecure mode) and on their own
// host, and bounds what the registry sends. It reads every layer, as a pull does.
func pullWithKeychain(ctx context.Context, kc *keychain.Keychain, ref name.Reference) (v1.Hash, error) {
	tr, err := kc.Transport(ref.String())
	if err != nil {
		return v1.Hash{}, err
	}
	img, err := remote.Image(ref, remote.WithAuthFromKeychain(kc), remote.WithTransport(tr), remote.WithContext(ctx))
	if err != nil {
		return v1.Hash{}, err
	}
	layers, err := img.Layers()
	if err != nil {
		return v1.Hash{}, err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return v1.Hash{}, err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return v1.Hash{}, err
		}
	}
	return img.Digest()
}
