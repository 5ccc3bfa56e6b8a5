package regcredtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/providers"
	"github.com/regcred/regcred/regcredtest"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

// t stands in for the *testing.T of a platform's test: examples have none.
var t testing.TB = &testing.T{}

// deployCredentials is the platform's own code under test: it picks the credentials an
// image is deployed with from the Catalog.
func deployCredentials(ctx context.Context, cat *catalog.Catalog, image string) (registryName, user, password string, err error) {
	kc, err := cat.Keychain(ctx)
	if err != nil {
		return "", "", "", err
	}
	creds, reg, err := kc.Credentials(ctx, image)
	if err != nil {
		return "", "", "", err
	}
	return reg.Name, creds.Username, creds.Password.Reveal(), nil
}

// A platform's test: "my deploy code picks the right credentials and survives a token
// refresh". Two registries (a self-hosted one behind bearer tokens over TLS, and ECR)
// and one fake clock that drives the ECR token's 12-hour lifetime and the registry's
// 5-minute bearer tokens; no network, no Docker, no cluster.
func Example() {
	ctx := context.Background()
	clk := regcredtest.NewClock(time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC))
	team := regcredtest.NewRegistry(t, regcredtest.WithBearerAuth("deploy", "s3cret-team"), regcredtest.WithClock(clk))
	aws := regcredtest.NewECR(t, regcredtest.WithCloudClock(clk))

	cat := catalog.New(memory.New(), catalog.WithClock(clk),
		catalog.WithProviderFactory(providers.Factory(aws.ProviderOption(), providers.WithClock(clk))))
	defer cat.Close()
	for _, r := range []registry.Registry{team.Record("team"), aws.Record("prod-ecr")} {
		if _, err := cat.Add(ctx, r); err != nil {
			fmt.Println(err)
			return
		}
	}

	ecrImage := aws.Host + "/shop/api:v3"
	for _, image := range []string{team.Image, ecrImage} {
		name, user, password, err := deployCredentials(ctx, cat, image)
		fmt.Println(name, user, password == team.Password() || password == aws.Password(1), err)
	}

	// The image really pulls with what the Catalog hands out.
	kc, _ := cat.Keychain(ctx)
	digest, err := regcredtest.Pull(ctx, kc, team.Image)
	fmt.Println("pulled:", digest == team.Digest, err, team.Counts().TokenRequests, "bearer token")

	// Eleven hours later the ECR token is due for refresh and the bearer token has expired.
	clk.Advance(11 * time.Hour)
	_, _, password, _ := deployCredentials(ctx, cat, ecrImage)
	fmt.Println("refreshed ECR token:", password == aws.Password(2), aws.TokenRequests(), "token requests")
	kc, _ = cat.Keychain(ctx)
	digest, err = regcredtest.Pull(ctx, kc, team.Image)
	fmt.Println("pulled again:", digest == team.Digest, err, team.Counts().TokenRequests, "bearer tokens")
	// Output:
	// team deploy true <nil>
	// prod-ecr AWS true <nil>
	// pulled: true <nil> 1 bearer token
	// refreshed ECR token: true 2 token requests
	// pulled again: true <nil> 2 bearer tokens
}

// A registry with basic auth over TLS: the record carries its CA, a pull with the saved
// credentials works, and a rotation on the registry's side shows up as refused requests
// until the platform saves the new password.
func ExampleRegistry() {
	ctx := context.Background()
	reg := regcredtest.NewRegistry(t) // basic auth, DefaultUsername / DefaultPassword
	cat := catalog.New(memory.New(), catalog.WithProviderFactory(providers.Factory()))
	defer cat.Close()
	saved, _ := cat.Add(ctx, reg.Record("team"))
	fmt.Println(saved.TLS.Mode, saved.Fields["password"])

	kc, _ := cat.Keychain(ctx)
	_, err := regcredtest.Pull(ctx, kc, reg.Image)
	fmt.Println("pull:", err, reg.Counts().Unauthorized > 0, reg.Counts().ManifestGets)

	reg.SetCredentials("deploy", "rotated-Pa55word")
	reg.ResetCounts()
	kc, _ = cat.Keychain(ctx)
	_, err = regcredtest.Pull(ctx, kc, reg.Image)
	fmt.Println("after the rotation upstream:", errors.Is(err, nil), reg.Counts().ManifestGets)

	// The settings page saves the new password; the other fields are left as they were.
	cur, _ := cat.Get(ctx, saved.ID)
	cur.Fields["password"] = "rotated-Pa55word"
	if _, err := cat.Update(ctx, cur); err != nil {
		fmt.Println(err)
		return
	}
	kc, _ = cat.Keychain(ctx)
	_, err = regcredtest.Pull(ctx, kc, reg.Image)
	fmt.Println("after the update:", err, reg.Counts().ManifestGets)
	// Output:
	// ca REDACTED
	// pull: <nil> true 1
	// after the rotation upstream: false 0
	// after the update: <nil> 1
}

// An ECR registry: the provider signs GetAuthorizationToken with the saved keys, the token
// is cached for most of its 12 hours, and a failing endpoint does not stop deployments
// while the token is still valid.
func ExampleECR() {
	ctx := context.Background()
	clk := regcredtest.NewClock(time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC))
	aws := regcredtest.NewECR(t, regcredtest.WithCloudClock(clk))
	cat := catalog.New(memory.New(), catalog.WithClock(clk),
		catalog.WithProviderFactory(providers.Factory(aws.ProviderOption(), providers.WithClock(clk))))
	defer cat.Close()
	saved, _ := cat.Add(ctx, aws.Record("prod-ecr"))

	p, _ := cat.Provider(ctx, saved.ID)
	for _, step := range []time.Duration{0, time.Hour, 9 * time.Hour} {
		clk.Advance(step)
		c, err := p.Credentials(ctx)
		fmt.Println(clk.Now().Format("15:04"), c.Password.Reveal(), c.ExpiresAt.Format("15:04"), err)
	}
	aws.SetFailing(true)
	clk.Advance(20 * time.Minute) // 10:20 past the first fetch: due for refresh, still valid
	c, err := p.Credentials(ctx)
	fmt.Println(clk.Now().Format("15:04"), c.Password.Reveal(), err)
	fmt.Println("token requests:", aws.TokenRequests())
	// Output:
	// 09:00 ECRSECRETPASSWORD0001 21:00 <nil>
	// 10:00 ECRSECRETPASSWORD0001 21:00 <nil>
	// 19:00 ECRSECRETPASSWORD0002 07:00 <nil>
	// 19:20 ECRSECRETPASSWORD0002 <nil>
	// token requests: 2
}

// An ACR registry with a service principal and a tenant: Azure AD's client-credentials
// token, exchanged at the registry for an ACR refresh token: docker's identity token,
// with the fixed user 00000000-0000-0000-0000-000000000000.
func ExampleACR() {
	ctx := context.Background()
	az := regcredtest.NewACR(t)
	cat := catalog.New(memory.New(), catalog.WithProviderFactory(providers.Factory(az.ProviderOption())))
	defer cat.Close()
	saved, _ := cat.Add(ctx, az.Record("acr"))
	p, _ := cat.Provider(ctx, saved.ID)
	for range 3 {
		c, err := p.Credentials(ctx)
		fmt.Println(c.Username, c.IdentityToken != "", err)
	}
	fmt.Println("AAD:", az.AADRequests(), "exchanges:", az.TokenRequests())
	// Output:
	// 00000000-0000-0000-0000-000000000000 true <nil>
	// 00000000-0000-0000-0000-000000000000 true <nil>
	// 00000000-0000-0000-0000-000000000000 true <nil>
	// AAD: 1 exchanges: 1
}

// An Artifact Registry record with a service account key: an OAuth2 access token by the
// JWT-bearer grant, user oauth2accesstoken, fetched once for the hour it lives.
func ExampleGoogle() {
	ctx := context.Background()
	g := regcredtest.NewGoogle(t)
	cat := catalog.New(memory.New(), catalog.WithProviderFactory(providers.Factory(g.ProviderOption())))
	defer cat.Close()
	if _, err := cat.Add(ctx, g.Record("gar", "europe-west1")); err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		name, user, _, err := deployCredentials(ctx, cat, "europe-west1-docker.pkg.dev/my-project/apps/web:v2")
		fmt.Println(name, user, err)
	}
	fmt.Println("token requests:", g.TokenRequests())
	// Output:
	// gar oauth2accesstoken <nil>
	// gar oauth2accesstoken <nil>
	// gar oauth2accesstoken <nil>
	// token requests: 1
}

// A platform's pull Secrets survive the ECR token's refresh: the kube Refresher, run by the
// fake clock on client-go's fake clientset, rewrites the Secret with the new token before
// the old one expires, and the Secret, the Keychain and any other consumer share one token.
func ExampleECR_refresher() {
	ctx := context.Background()
	clk := regcredtest.NewClock(time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC))
	aws := regcredtest.NewECR(t, regcredtest.WithCloudClock(clk))
	cat := catalog.New(memory.New(), catalog.WithClock(clk),
		catalog.WithProviderFactory(providers.Factory(aws.ProviderOption(), providers.WithClock(clk))))
	defer cat.Close()
	saved, _ := cat.Add(ctx, aws.Record("prod-ecr"))

	client := fake.NewSimpleClientset()
	syncer := kube.NewSyncer(client, kube.WithClock(clk), kube.WithProviderFactory(cat.ProviderFactory()))
	refresher := kube.NewRefresher(syncer, cat.SyncSource(func(context.Context) ([]string, error) { return []string{"shop"}, nil }),
		kube.WithRefresherClock(clk), kube.WithJitter(func() float64 { return 0.5 }), kube.WithResync(24*time.Hour))

	secretPassword := func() string {
		s, err := client.CoreV1().Secrets("shop").Get(ctx, kube.DefaultSecretName(saved), metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		var cfg struct {
			Auths map[string]struct{ Password string } `json:"auths"`
		}
		json.Unmarshal(s.Data[".dockerconfigjson"], &cfg)
		return cfg.Auths[aws.Host].Password
	}
	for range 3 {
		_, wait, err := refresher.Step(ctx)
		_, _, keychainPassword, _ := deployCredentials(ctx, cat, aws.Host+"/shop/api:v3")
		fmt.Println(clk.Now().Format("15:04"), secretPassword(), keychainPassword == secretPassword(), "next pass in", wait, err)
		clk.Advance(wait)
	}
	fmt.Println("token requests:", aws.TokenRequests())
	// Output:
	// 09:00 ECRSECRETPASSWORD0001 true next pass in 9h36m0s <nil>
	// 18:36 ECRSECRETPASSWORD0002 true next pass in 9h36m0s <nil>
	// 04:12 ECRSECRETPASSWORD0003 true next pass in 9h36m0s <nil>
	// token requests: 3
}
