package regcredtest

import (
	"testing"
	"time"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/internal/fakecloud"
	"github.com/regcred/regcred/providers"
	"github.com/regcred/regcred/providers/acr"
	"github.com/regcred/regcred/providers/ecr"
	"github.com/regcred/regcred/providers/google"
	"github.com/regcred/regcred/registry"
)

// CloudOption configures NewECR, NewACR and NewGoogle.
type CloudOption func(*cloudConfig)

type cloudConfig struct{ clk clock.Clock }

// WithCloudClock sets the clock the endpoint stamps the expiry of its tokens by (default
// the system clock). Give the providers the same clock (providers.WithClock) and moving
// it makes their tokens due for refresh.
func WithCloudClock(c clock.Clock) CloudOption { return func(cfg *cloudConfig) { cfg.clk = c } }

func cloudClock(opts []CloudOption) clock.Clock {
	var cfg cloudConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return clock.Or(cfg.clk)
}

// ECR is the AWS endpoint an ECR provider fetches its registry tokens from, speaking
// GetAuthorizationToken in AWS JSON 1.1 and checking every request's SigV4 signature
// against the secret key (a request signed with another key is refused as AWS refuses
// it). Tokens live 12 hours, as ECR's; the n-th token's registry password is Password(n).
type ECR struct {
	// Region, Host, AccessKeyID and SecretAccessKey are what Record saves: eu-west-3,
	// 123456789012.dkr.ecr.eu-west-3.amazonaws.com and a key pair the endpoint knows.
	Region, Host, AccessKeyID, SecretAccessKey string

	aws *fakecloud.AWS
}

// NewECR starts the endpoint; it stops when the test ends.
func NewECR(t testing.TB, opts ...CloudOption) *ECR {
	e := &ECR{Region: "eu-west-3", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	e.Host = fakecloud.AWSAccount + ".dkr.ecr." + e.Region + ".amazonaws.com"
	e.aws = fakecloud.NewAWS(t)
	e.aws.Now = cloudClock(opts).Now
	e.aws.AddKey(e.AccessKeyID, e.SecretAccessKey, "")
	return e
}

// Record returns an ECR record of the endpoint's registry with its access keys, ready for
// Catalog.Add.
func (e *ECR) Record(name string) registry.Registry {
	return registry.Registry{Name: name, Kind: registry.KindECR, Server: e.Host, Fields: map[string]string{
		"region": e.Region, "accessKeyId": e.AccessKeyID, "secretAccessKey": e.SecretAccessKey}}
}

// ProviderOption points ECR providers at the endpoint: every AWS host the SDK resolves
// (ECR, ECR Public, STS) is answered by it. Pass it to providers.Factory or providers.For.
func (e *ECR) ProviderOption() providers.Option {
	return providers.WithECROptions(ecr.WithHTTPClient(e.aws.Client()))
}

// TokenRequests is the number of GetAuthorizationToken (and AssumeRole) requests answered.
func (e *ECR) TokenRequests() int { return len(e.aws.Requests()) }

// Password returns the registry password of the n-th token issued (1-based).
func (e *ECR) Password(n int) string { return fakecloud.Password(n) }

// SetFailing makes every following request fail with AWS's 500 ServerException (false:
// answer again), to test that a platform keeps deploying with a still-valid token.
func (e *ECR) SetFailing(fail bool) {
	if fail {
		e.aws.SetFault(fakecloud.Fault500)
	} else {
		e.aws.SetFault(fakecloud.NoFault)
	}
}

// ACR is the Azure side of an Azure Container Registry with a service principal and a
// tenant: the Microsoft identity platform's client-credentials token endpoint and the
// registry's /oauth2/exchange, which trades the AAD access token for an ACR refresh token
// (a JWT with an exp claim, 3 hours). Both check what they are sent as Azure does.
type ACR struct {
	// LoginServer, Tenant, ClientID and ClientSecret are what Record saves.
	LoginServer, Tenant, ClientID, ClientSecret string

	az *fakecloud.Azure
}

// NewACR starts the endpoints; they stop when the test ends.
func NewACR(t testing.TB, opts ...CloudOption) *ACR {
	a := &ACR{LoginServer: "myregistry.azurecr.io", Tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47",
		ClientID: "5f1c3a2e-9d5b-4b8e-8d7a-0c1e2f3a4b5c", ClientSecret: "regcredtest~client.secret"}
	a.az = fakecloud.NewAzure(t, a.Tenant, a.ClientID, a.ClientSecret, a.LoginServer)
	a.az.Now = cloudClock(opts).Now
	return a
}

// Record returns an ACR record with the service principal and the tenant (the AAD
// exchange), ready for Catalog.Add.
func (a *ACR) Record(name string) registry.Registry {
	return registry.Registry{Name: name, Kind: registry.KindACR, Fields: map[string]string{
		"loginServer": a.LoginServer, "username": a.ClientID, "password": a.ClientSecret, "tenant": a.Tenant}}
}

// ProviderOption points ACR providers at the endpoints. Pass it to providers.Factory or
// providers.For.
func (a *ACR) ProviderOption() providers.Option {
	return providers.WithACROptions(acr.WithAuthorityHost(a.az.Server.URL), acr.WithExchangeURL(a.az.Server.URL),
		acr.WithHTTPClient(a.az.Server.Client()))
}

// TokenRequests is the number of exchanges answered (one per ACR refresh token).
func (a *ACR) TokenRequests() int { _, n := a.az.Calls(); return n }

// AADRequests is the number of Azure AD token requests answered.
func (a *ACR) AADRequests() int { n, _ := a.az.Calls(); return n }

// Google is Google's OAuth2 token endpoint for service account keys: the JWT-bearer grant,
// with the assertion's RS256 signature checked against the key's public half. It serves
// GCR and Artifact Registry records.
type Google struct {
	g *fakecloud.Google
}

// NewGoogle starts the endpoint; it stops when the test ends. Its access tokens live an
// hour, as Google's, counted by the providers' clock.
func NewGoogle(t testing.TB) *Google { return &Google{g: fakecloud.NewGoogle(t)} }

// Key returns a service account key file (the JSON the Cloud console downloads) for email,
// which the endpoint accepts.
func (g *Google) Key(email string) string { return g.g.NewKey(email) }

// Record returns an Artifact Registry record for location (e.g. "europe-west1") with a
// key of the endpoint's, ready for Catalog.Add.
func (g *Google) Record(name, location string) registry.Registry {
	return registry.Registry{Name: name, Kind: registry.KindGAR, Fields: map[string]string{
		"serviceAccountKey": g.Key("deployer@my-project.iam.gserviceaccount.com"), "region": location}}
}

// ProviderOption points GCR and Artifact Registry providers at the endpoint. Pass it to
// providers.Factory or providers.For.
func (g *Google) ProviderOption() providers.Option {
	return providers.WithGoogleOptions(google.WithTokenURL(g.g.TokenURL()), google.WithHTTPClient(g.g.Server.Client()))
}

// TokenRequests is the number of token requests answered.
func (g *Google) TokenRequests() int { return g.g.Calls() }

// NewClock returns a clock that only moves when the test moves it (Advance, Set), set to
// start: the one clock every part of regcred accepts (registry.WithClock,
// providers.WithClock, kube.WithClock, and the test kit's WithClock and WithCloudClock).
func NewClock(start time.Time) *clock.Fake { return clock.NewFake(start) }
