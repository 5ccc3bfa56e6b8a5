package providers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/internal/fakecloud"
	"github.com/regcred/regcred/providers/acr"
	"github.com/regcred/regcred/providers/cache"
	"github.com/regcred/regcred/providers/google"
	"github.com/regcred/regcred/providers/kubesa/kubesatest"
	"github.com/regcred/regcred/registry"
)

const (
	keyID  = "AKIAIOSFODNN7EXAMPLE"
	secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func ecrRecord(server string, fields map[string]string) registry.Registry {
	f := map[string]string{"region": "eu-west-3", "accessKeyId": keyID, "secretAccessKey": secret}
	for k, v := range fields {
		f[k] = v
	}
	return registry.Registry{Name: "prod-ecr", Kind: registry.KindECR, Server: server, Fields: f}
}

func TestStaticKinds(t *testing.T) {
	tests := []struct {
		r    registry.Registry
		want registry.Credentials
	}{
		{registry.Registry{Name: "hub", Kind: registry.KindDockerHub, Fields: map[string]string{"username": "myuser", "password": "dckr_pat_x"}},
			registry.Credentials{Username: "myuser", Password: "dckr_pat_x"}},
		{registry.Registry{Name: "gh", Kind: registry.KindGHCR, Fields: map[string]string{"username": "me", "token": "ghp_x"}},
			registry.Credentials{Username: "me", Password: "ghp_x"}},
		{registry.Registry{Name: "quay", Kind: registry.KindQuay, Fields: map[string]string{"username": "org+bot", "token": "t"}},
			registry.Credentials{Username: "org+bot", Password: "t"}},
		{registry.Registry{Name: "harbor", Kind: registry.KindHarbor, Server: "harbor.example.com", Fields: map[string]string{"username": "robot$p+n", "password": "p"}},
			registry.Credentials{Username: "robot$p+n", Password: "p"}},
		{registry.Registry{Name: "acr", Kind: registry.KindACR, Fields: map[string]string{"loginServer": "myregistry.azurecr.io", "username": "sp", "password": "pw"}},
			registry.Credentials{Username: "sp", Password: "pw"}},
		{registry.Registry{Name: "pub", Kind: registry.KindPublic}, registry.Credentials{}},
	}
	for _, tt := range tests {
		t.Run(string(tt.r.Kind), func(t *testing.T) {
			p, err := For(tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if cache.IsCached(p) {
				t.Fatal("a static provider was cached")
			}
			got, err := p.Credentials(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestInvalidRecords(t *testing.T) {
	tests := []struct {
		name  string
		r     registry.Registry
		opts  []Option
		field string
	}{
		{"ecr unknown region", ecrRecord("", map[string]string{"region": "moon-1"}), nil, "region"},
		{"ecr region disagrees with host", ecrRecord("123456789012.dkr.ecr.us-east-1.amazonaws.com", nil), nil, "region"},
		{"ecr host not ecr", ecrRecord("registry.example.com", nil), nil, "url"},
		{"ecr secret missing", ecrRecord("", map[string]string{"secretAccessKey": ""}), nil, "secretAccessKey"},
		{"gcr broken key", registry.Registry{Name: "g", Kind: registry.KindGCR, Fields: map[string]string{"serviceAccountKey": `{"type":"service_account","client_email":"a@b","private_key":"nope"}`}}, nil, "serviceAccountKey"},
		{"kube bad ref", registry.Registry{Name: "k", Kind: registry.KindKubernetes, Server: "r.example.com", Fields: map[string]string{"serviceAccount": "nope"}}, nil, "serviceAccount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := For(tt.r, tt.opts...)
			var fe *registry.FieldError
			var re *registry.Error
			if p != nil || !errors.As(err, &fe) || fe.Field != tt.field || !errors.As(err, &re) || re.Op != "provider" {
				t.Fatalf("got %v, %v; want *registry.Error wrapping a FieldError for %s", p, err, tt.field)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
	r := registry.Registry{Name: "k", Kind: registry.KindKubernetes, Server: "r.example.com", Fields: map[string]string{"serviceAccount": "payload/sa"}}
	if _, err := For(r); !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), "WithKubeClient") {
		t.Fatalf("kube record without a client: err = %v", err)
	}
}

// An ECR record: the cached provider calls the (fake) AWS API once and serves the token.
func TestECR(t *testing.T) {
	tests := []struct {
		name, server string
		fields       map[string]string
		wantHost     string
		wantServer   string // Credentials.Server: the concrete host learnt from the token
	}{
		{"wildcard server from region", "", nil, "api.ecr.eu-west-3.amazonaws.com", "123456789012.dkr.ecr.eu-west-3.amazonaws.com"},
		{"concrete host", "123456789012.dkr.ecr.eu-west-3.amazonaws.com", nil, "api.ecr.eu-west-3.amazonaws.com", "123456789012.dkr.ecr.eu-west-3.amazonaws.com"},
		// aws-sdk-go-v2/service/ecr >= 1.55 resolves the FIPS API as api.ecr-fips.
		{"fips host", "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", map[string]string{"region": "us-east-1"}, "api.ecr-fips.us-east-1.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com"},
		{"sovereign cloud wildcard from region", "", map[string]string{"region": "eusc-de-east-1"}, "api.ecr.eusc-de-east-1.amazonaws.eu", "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu"},
		{"dual-stack host", "123456789012.dkr-ecr.eu-west-3.on.aws", nil, "api.ecr.eu-west-3.amazonaws.com", "123456789012.dkr.ecr.eu-west-3.amazonaws.com"},
		{"public", "public.ecr.aws", nil, "api.ecr-public.us-east-1.amazonaws.com", ""},
		{"public dual-stack", "ecr-public.aws.com", nil, "api.ecr-public.us-east-1.amazonaws.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakecloud.NewAWS(t)
			fake.AddKey(keyID, secret, "")
			p, err := For(ecrRecord(tt.server, tt.fields), WithHTTPClient(fake.Client()))
			if err != nil {
				t.Fatal(err)
			}
			if !cache.IsCached(p) {
				t.Fatal("ECR provider not cached")
			}
			for range 3 {
				c, err := p.Credentials(context.Background())
				if err != nil || c.Username != "AWS" || c.Password.Reveal() != fakecloud.Password(1) {
					t.Fatalf("got %v, %v", c, err)
				}
				if c.Server != tt.wantServer {
					t.Fatalf("Server = %q, want %q", c.Server, tt.wantServer)
				}
			}
			reqs := fake.Requests()
			if len(reqs) != 1 || reqs[0].Host != tt.wantHost {
				t.Fatalf("requests = %+v, want one to %s", reqs, tt.wantHost)
			}
			if exp := p.(registry.Expirer).ExpiresAt(); time.Until(exp) < 11*time.Hour {
				t.Fatalf("ExpiresAt = %v", exp)
			}
		})
	}
}

func TestACRWithTenant(t *testing.T) {
	const tenant, client, pw, server = "72f988bf-86f1-41af-91ab-2d7cd011db47", "11111111-2222-3333-4444-555555555555", "client-secret", "myregistry.azurecr.io"
	z := fakecloud.NewAzure(t, tenant, client, pw, server)
	r := registry.Registry{Name: "acr", Kind: registry.KindACR, Fields: map[string]string{"loginServer": server, "username": client, "password": pw, "tenant": tenant}}
	p, err := For(r, WithHTTPClient(z.Server.Client()), WithACROptions(acr.WithAuthorityHost(z.Server.URL), acr.WithExchangeURL(z.Server.URL)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Credentials(context.Background())
	if err != nil || c.Username != acr.TokenUsername || c.IdentityToken == "" || !cache.IsCached(p) {
		t.Fatalf("got %#v, %v", c, err)
	}
}

func TestGoogle(t *testing.T) {
	g := fakecloud.NewGoogle(t)
	key := g.NewKey("puller@my-project.iam.gserviceaccount.com")
	gar := registry.Registry{Name: "gar", Kind: registry.KindGAR, Fields: map[string]string{"serviceAccountKey": key, "region": "europe-west1"}}
	p, err := For(gar, WithHTTPClient(g.Server.Client()))
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Credentials(context.Background())
	if err != nil || c.Username != google.AccessTokenUsername || !cache.IsCached(p) {
		t.Fatalf("got %v, %v", c, err)
	}
	if gar.Host() != "europe-west1-docker.pkg.dev" {
		t.Fatalf("GAR host = %q", gar.Host())
	}
	gcr := registry.Registry{Name: "gcr", Kind: registry.KindGCR, Fields: map[string]string{"serviceAccountKey": key}}
	p, err = For(gcr, WithGoogleMode(google.JSONKey))
	if err != nil {
		t.Fatal(err)
	}
	c, _ = p.Credentials(context.Background())
	if c.Username != google.JSONKeyUsername || cache.IsCached(p) {
		t.Fatalf("JSON key mode: %v, cached=%v", c, cache.IsCached(p))
	}
}

func TestKubernetes(t *testing.T) {
	kc := kubesatest.NewClientset(kubesatest.ServiceAccount("payload", "my-pull-sa"))
	r := registry.Registry{Name: "payload", Kind: registry.KindKubernetes, Server: "payload-registry.example.com",
		Fields: map[string]string{"serviceAccount": "payload/my-pull-sa", "audience": "payload-registry.example.com", "expirationSeconds": "3600"}}
	p, err := Factory(WithKubeClient(kc))(r)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Credentials(context.Background())
	if err != nil || c.Username != "token" || time.Until(c.ExpiresAt) > time.Hour {
		t.Fatalf("got %v, %v", c, err)
	}
	claims, _ := kubesatest.Claims(c.Password.Reveal())
	if fmt.Sprint(claims["aud"]) != "[payload-registry.example.com]" {
		t.Fatalf("aud = %v", claims["aud"])
	}
}

// 1,000 goroutines on an expired ECR token: exactly one GetAuthorizationToken reaches AWS.
func TestECRConcurrentRefreshOneCall(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC))
	fake := fakecloud.NewAWS(t)
	fake.AddKey(keyID, secret, "")
	fake.Now = clk.Now
	p, err := For(ecrRecord("", nil), WithHTTPClient(fake.Client()), WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(13 * time.Hour)
	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := p.Credentials(context.Background())
			if err == nil && c.Password.Reveal() != fakecloud.Password(2) {
				err = fmt.Errorf("got an old token")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := len(fake.Requests()); got != 2 {
		t.Fatalf("AWS calls = %d (1 initial + %d refreshes), want 1 refresh for %d callers", got, got-1, n)
	}
}

// 48 simulated hours of 12-hour ECR tokens, through the wire: one GetAuthorizationToken
// per token lifetime and never an expired token.
func TestECRSimulated48Hours(t *testing.T) {
	now := time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)
	start := now
	clk := clock.NewFake(now)
	fake := fakecloud.NewAWS(t)
	fake.AddKey(keyID, secret, "")
	fake.Now = clk.Now
	p, err := For(ecrRecord("", nil), WithHTTPClient(fake.Client()), WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]bool{}
	for ; now.Sub(start) < 48*time.Hour; now = now.Add(5 * time.Minute) {
		clk.Set(now)
		c, err := p.Credentials(context.Background())
		if err != nil {
			t.Fatalf("+%v: %v", now.Sub(start), err)
		}
		if !c.ExpiresAt.After(now) {
			t.Fatalf("+%v: got a token that expired at +%v", now.Sub(start), c.ExpiresAt.Sub(start))
		}
		tokens[c.Password.Reveal()] = true
	}
	calls := len(fake.Requests())
	if calls != len(tokens) || calls != 5 {
		t.Fatalf("AWS calls = %d for %d tokens over 48h, want 5 (one per token, refreshed at 80%% of 12h)", calls, len(tokens))
	}
}

// No way of printing a provider shows a secret.
func TestPrintingRedacts(t *testing.T) {
	g := fakecloud.NewGoogle(t)
	key := g.NewKey("puller@my-project.iam.gserviceaccount.com")
	kc := kubesatest.NewClientset(kubesatest.ServiceAccount("payload", "sa"))
	records := []registry.Registry{
		ecrRecord("", map[string]string{"sessionToken": "FwoGZXIvYXdzSESSION"}),
		{Name: "acr", Kind: registry.KindACR, Fields: map[string]string{"loginServer": "myregistry.azurecr.io", "username": "sp", "password": "acr-client-secret", "tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47"}},
		{Name: "gcr", Kind: registry.KindGCR, Fields: map[string]string{"serviceAccountKey": key}},
		{Name: "k", Kind: registry.KindKubernetes, Server: "r.example.com", Fields: map[string]string{"serviceAccount": "payload/sa"}},
	}
	for _, mode := range []google.Mode{google.AccessToken, google.JSONKey} {
		for _, r := range records {
			p, err := For(r, WithKubeClient(kc), WithGoogleMode(mode))
			if err != nil {
				t.Fatal(err)
			}
			out := fmt.Sprintf("%v|%+v|%#v|%s", p, p, p, p)
			for _, s := range []string{secret, "FwoGZXIvYXdzSESSION", "acr-client-secret", "PRIVATE KEY", "MII"} {
				if strings.Contains(out, s) {
					t.Fatalf("%s: printing the provider shows a secret: %s", r.Kind, out)
				}
			}
			if !strings.Contains(out, "cache") && mode == google.AccessToken {
				t.Fatalf("%s: %s", r.Kind, out)
			}
		}
	}
}

// After a 401 the caller invalidates: the next call fetches a new token. Refresh failures
// are logged through WithLogger without secrets.
func TestInvalidateAndLogger(t *testing.T) {
	now := time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now)
	fake := fakecloud.NewAWS(t)
	fake.AddKey(keyID, secret, "")
	fake.Now = clk.Now
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := For(ecrRecord("", nil), WithHTTPClient(fake.Client()), WithClock(clk), WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := p.Credentials(context.Background())
	p.(registry.Invalidator).Invalidate()
	second, err := p.Credentials(context.Background())
	if err != nil || second.Password == first.Password || len(fake.Requests()) != 2 {
		t.Fatalf("after Invalidate: %v, %v, %d calls", second, err, len(fake.Requests()))
	}
	fake.SetFault(fakecloud.Fault500)
	clk.Advance(10 * time.Hour)
	if c, err := p.Credentials(context.Background()); err != nil || c.Password != second.Password {
		t.Fatalf("during the outage: %v, %v", c, err)
	}
	out := buf.String()
	if !strings.Contains(out, "credential refresh failed") || !strings.Contains(out, "prod-ecr") || !strings.Contains(out, "ServerException") {
		t.Fatalf("log:\n%s", out)
	}
	if strings.Contains(out, "ECRSECRETPASSWORD") || strings.Contains(out, secret) {
		t.Fatalf("log leaks a secret:\n%s", out)
	}
}

func TestCachedNeverWrapsTwice(t *testing.T) {
	p := Cached(registry.Anonymous())
	if Cached(p) != p || !cache.IsCached(p) {
		t.Fatal("Cached wrapped twice")
	}
}
