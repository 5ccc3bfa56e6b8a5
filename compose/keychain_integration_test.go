package compose

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/keychain"
)

// The real daemon treats 127.0.0.0/8 as an insecure registry: when TLS fails it retries
// over plain http, with the X-Registry-Auth credentials. A record saved in the secure or
// custom CA mode whose registry speaks plain HTTP must fail before the daemon is called:
// not one request reaches the registry. Before, the daemon pulled the image over http
// with the Basic credentials.
func TestPrePullNeverDowngradesToHTTP(t *testing.T) {
	d := testenv.StartDocker(t)
	p := startPlainRegistry(t)
	t.Cleanup(func() { d.RemoveImage(t, p.image) })
	images := []Image{{Ref: p.image, Host: p.host, Services: []string{"app"}}}
	for _, mode := range tlsModesThatForbidHTTP(t) {
		t.Run(string(mode.Mode), func(t *testing.T) {
			p.requests.Store(0)
			p.authed.Store(0)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			kc, err := keychain.New([]registry.Registry{p.record(p.host, mode)})
			if err != nil {
				t.Fatal(err)
			}
			results, _ := PrePull(ctx, d.Client, kc, images)
			if r := results[0]; r.Status != Failed || !errors.Is(r.Err, registry.ErrHTTPInSecureMode) {
				t.Errorf("result %v %v, want failed with ErrHTTPInSecureMode", r.Status, r.Err)
			}
			if n := p.requests.Load(); n != 0 {
				t.Fatalf("%d requests (%d with credentials) reached the plain-HTTP registry", n, p.authed.Load())
			}
		})
	}
	// The control: saved in the insecure mode, the daemon pulls it with the credentials,
	// so the counters above would have seen a downgrade.
	t.Run("insecure mode", func(t *testing.T) {
		p.authed.Store(0)
		kc, _ := keychain.New([]registry.Registry{p.record("http://"+p.host, registry.TLS{Mode: registry.TLSInsecure})})
		results, _ := PrePull(context.Background(), d.Client, kc, images)
		if r := results[0]; r.Status != Pulled {
			t.Fatalf("result %v %v", r.Status, r.Err)
		}
		if p.authed.Load() == 0 {
			t.Fatal("the daemon never sent the credentials")
		}
	})
}

// A blob answered by 307 to object storage on another host (here another port of the
// same address, which many HTTP clients treat as the same host) must not get the
// registry's Authorization from the daemon.
func TestPrePullRedirectCarriesNoAuthorization(t *testing.T) {
	d := testenv.StartDocker(t)
	p := startRedirectingRegistry(t)
	t.Cleanup(func() { d.RemoveImage(t, p.image) })
	kc, err := keychain.New([]registry.Registry{p.record("http://"+p.host, registry.TLS{Mode: registry.TLSInsecure})})
	if err != nil {
		t.Fatal(err)
	}
	results, _ := PrePull(context.Background(), d.Client, kc, []Image{{Ref: p.image, Host: p.host, Services: []string{"app"}}})
	if r := results[0]; r.Status != Pulled {
		t.Fatalf("result %v %v", r.Status, r.Err)
	}
	if p.storageRequests.Load() == 0 {
		t.Fatal("nothing was redirected to the storage: the test proves nothing")
	}
	if n := p.storageAuthed.Load(); n != 0 {
		t.Fatalf("%d of %d requests to the storage host carried Authorization", n, p.storageRequests.Load())
	}
}
