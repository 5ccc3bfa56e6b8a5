package providers_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/internal/fakecloud"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/providers"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

// One ECR registry used in one process by the Keychain (a pull), the kube Refresher (pull
// Secrets) and the credential helper's code path (Keychain.Credentials by host, as
// docker-credential-regcred's Get does) fetches exactly one token per lifetime, counted at
// the fake AWS endpoint: every consumer gets the Catalog's one provider of the registry.
// Before Catalog.Provider/ProviderFactory, the kube Syncer built its own provider with
// providers.For and so its own token cache: two tokens per lifetime.
func TestCatalogOneECRTokenPerLifetime(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC))
	aws := fakecloud.NewAWS(t)
	aws.AddKey("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")
	aws.Now = clk.Now
	cat := catalog.New(memory.New(), catalog.WithClock(clk),
		catalog.WithProviderFactory(providers.Factory(providers.WithHTTPClient(aws.Client()), providers.WithClock(clk))))
	t.Cleanup(func() { cat.Close() })
	const host = "123456789012.dkr.ecr.eu-west-3.amazonaws.com"
	saved, err := cat.Add(ctx, registry.Registry{Name: "prod-ecr", Kind: registry.KindECR, Server: host,
		Fields: map[string]string{"region": "eu-west-3", "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}})
	if err != nil {
		t.Fatal(err)
	}

	client := fake.NewSimpleClientset()
	syncer := kube.NewSyncer(client, kube.WithClock(clk), kube.WithProviderFactory(cat.ProviderFactory()))
	refresher := kube.NewRefresher(syncer, cat.SyncSource(func(context.Context) ([]string, error) { return []string{"apps"}, nil }),
		kube.WithRefresherClock(clk), kube.WithJitter(func() float64 { return 0.5 }))

	// use runs every consumer once and returns the password each one saw.
	use := func() (pull, secret, helper string) {
		t.Helper()
		kc, err := cat.Keychain(ctx)
		if err != nil {
			t.Fatal(err)
		}
		auth, err := kc.Resolve(name.MustParseReference(host + "/app:v1").Context())
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := auth.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := refresher.Step(ctx); err != nil {
			t.Fatal(err)
		}
		list, err := client.CoreV1().Secrets("apps").List(ctx, metav1.ListOptions{})
		if err != nil || len(list.Items) != 1 {
			t.Fatalf("pull secrets: %d, %v", len(list.Items), err)
		}
		var dc struct {
			Auths map[string]struct {
				Password string `json:"password"`
			} `json:"auths"`
		}
		if err := json.Unmarshal(list.Items[0].Data[".dockerconfigjson"], &dc); err != nil {
			t.Fatal(err)
		}
		c, r, err := kc.Credentials(ctx, host)
		if err != nil || r.ID != saved.ID {
			t.Fatalf("helper path: %v, %v", r.ID, err)
		}
		return cfg.Password, dc.Auths[host].Password, c.Password.Reveal()
	}
	expect := func(when string, fetches int) {
		t.Helper()
		pull, secret, helper := use()
		want := fakecloud.Password(fetches)
		if pull != want || secret != want || helper != want {
			t.Fatalf("%s: consumers saw %q, %q, %q; want the token %q", when, pull, secret, helper, want)
		}
		if got := len(aws.Requests()); got != fetches {
			t.Fatalf("%s: %d GetAuthorizationToken calls, want %d (one per token lifetime)", when, got, fetches)
		}
	}
	expect("first use", 1)
	expect("again", 1)
	clk.Advance(6 * time.Hour)
	expect("half way through the 12-hour token", 1)
	clk.Advance(4 * time.Hour) // 10 h: due for refresh (the kube Refresher at 3/4, the cache at 0.8)
	expect("after the refresh point", 2)
	clk.Advance(time.Hour)
	expect("an hour later", 2)
}
