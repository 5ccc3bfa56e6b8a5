package acr

import (
	"context"
	"errors"
	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/providers/internal/golden"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/internal/fakecloud"
	"github.com/regcred/regcred/providers/cache"
	"github.com/regcred/regcred/registry"
)

const (
	tenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	clientID = "11111111-2222-3333-4444-555555555555"
	secret   = "Zx8Q~CLIENTSECRETVALUE.abcdefghijklmno"
	server   = "myregistry.azurecr.io"
)

func newAAD(t *testing.T, opts ...Option) (*Provider, *fakecloud.Azure) {
	t.Helper()
	z := fakecloud.NewAzure(t, tenant, clientID, secret, server)
	p, err := New(server, clientID, secret, append([]Option{WithTenant(tenant),
		WithAuthorityHost(z.Server.URL), WithExchangeURL(z.Server.URL), WithHTTPClient(z.Server.Client())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p, z
}

func TestBasicWithoutTenant(t *testing.T) {
	p, err := New("MyRegistry.azurecr.io", clientID, secret)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := registry.Credentials{Username: clientID, Password: secret}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if p.Expiring() || p.LoginServer() != server {
		t.Fatal("basic auth provider misdescribed")
	}
}

func TestAADExchange(t *testing.T) {
	now := time.Date(2026, 3, 6, 2, 14, 19, 0, time.UTC)
	p, z := newAAD(t)
	z.Now = func() time.Time { return now }
	c, err := p.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Username != TokenUsername || c.Password != "" || !strings.Contains(c.IdentityToken.Reveal(), ".") {
		t.Fatalf("credentials = %#v", c)
	}
	if !c.ExpiresAt.Equal(now.Add(3 * time.Hour)) {
		t.Fatalf("ExpiresAt = %v, want the refresh token's exp %v", c.ExpiresAt, now.Add(3*time.Hour))
	}
	if aad, ex := z.Calls(); aad != 1 || ex != 1 {
		t.Fatalf("calls aad=%d exchange=%d", aad, ex)
	}
	if !p.Expiring() {
		t.Fatal("an AAD provider must say it expires")
	}
}

// An opaque refresh token (no exp claim) gets the documented default lifetime.
func TestDefaultLifetime(t *testing.T) {
	p, z := newAAD(t, WithDefaultLifetime(2*time.Hour))
	z.SetExchangeFault(fakecloud.FaultToken)
	before := time.Now()
	c, err := p.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := c.ExpiresAt.Sub(before); d < 2*time.Hour-time.Minute || d > 2*time.Hour+time.Minute {
		t.Fatalf("expires in %v, want about 2h", d)
	}
}

func TestAuthorityPerCloud(t *testing.T) {
	for host, want := range map[string]string{
		"reg12.azurecr.io": "login.microsoftonline.com", "reg12.azurecr.cn": "login.chinacloudapi.cn", "reg12.azurecr.us": "login.microsoftonline.us",
	} {
		if got := authorityFor(host); got != want {
			t.Errorf("%s: %s, want %s", host, got, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name, server, user, pass string
		opts                     []Option
		field                    string
	}{
		{"url not login server", "https://myregistry.azurecr.io", clientID, secret, nil, "loginServer"},
		{"not azure", "ghcr.io", clientID, secret, nil, "loginServer"},
		{"no user", server, "", secret, nil, "username"},
		{"no password", server, clientID, "", nil, "password"},
		{"bad tenant", server, clientID, secret, []Option{WithTenant("not a tenant")}, "tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.server, tt.user, registry.Secret(tt.pass), tt.opts...)
			var fe *registry.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("err = %v, want FieldError %s", err, tt.field)
			}
			assertNoSecret(t, err)
		})
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name     string
		tenant   string
		user     string
		pass     string
		aad      fakecloud.Fault
		exchange fakecloud.Fault
		timeout  time.Duration
		want     error
		mention  string
	}{
		{"wrong secret", tenant, clientID, "wrong-secret", "", "", 0, registry.ErrUnauthorized, "AADSTS7000215"},
		{"unknown client", tenant, "99999999-2222-3333-4444-555555555555", secret, "", "", 0, registry.ErrUnauthorized, "client ID"},
		{"unknown tenant", "00000000-1111-2222-3333-444444444444", clientID, secret, "", "", 0, registry.ErrInvalid, "tenant"},
		{"aad 500", tenant, clientID, secret, fakecloud.Fault500, "", 0, registry.ErrUnavailable, "HTTP 500"},
		{"aad 503 html", tenant, clientID, secret, fakecloud.Fault503, "", 0, registry.ErrUnavailable, "HTTP 503"},
		{"aad 403", tenant, clientID, secret, fakecloud.FaultDenied, "", 0, registry.ErrForbidden, "AADSTS53003"},
		{"aad malformed json", tenant, clientID, secret, fakecloud.FaultJSON, "", 0, registry.ErrUnavailable, "malformed"},
		{"aad hangs", tenant, clientID, secret, fakecloud.FaultHang, "", 50 * time.Millisecond, context.DeadlineExceeded, "in time"},
		{"exchange 500", tenant, clientID, secret, "", fakecloud.Fault500, 0, registry.ErrUnavailable, "HTTP 500"},
		{"exchange 403", tenant, clientID, secret, "", fakecloud.FaultDenied, 0, registry.ErrForbidden, "HTTP 403"},
		{"exchange malformed json", tenant, clientID, secret, "", fakecloud.FaultJSON, 0, registry.ErrUnavailable, "refresh_token"},
		{"exchange hangs", tenant, clientID, secret, "", fakecloud.FaultHang, 50 * time.Millisecond, context.DeadlineExceeded, "acr token exchange"},
	}
	var messages []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := fakecloud.NewAzure(t, tenant, clientID, secret, server)
			z.SetAADFault(tt.aad)
			z.SetExchangeFault(tt.exchange)
			p, err := New(server, tt.user, registry.Secret(tt.pass), WithTenant(tt.tenant), WithAuthorityHost(z.Server.URL),
				WithExchangeURL(z.Server.URL), WithHTTPClient(z.Server.Client()), WithName("prod-acr"))
			if err != nil {
				t.Fatal(err)
			}
			msg := golden.Fault(t, p, tt.timeout, tt.want, "prod-acr", tt.mention)
			messages = append(messages, tt.name+": "+msg)
			assertNoSecret(t, errors.New(msg))
		})
	}
	golden.Check(t, "faults.golden", messages)
}

// Through the cache: an exchange answering an already expired refresh token is refused and
// the last good one is served while valid.
func TestCachedExpiredAnswer(t *testing.T) {
	now := time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now)
	p, z := newAAD(t)
	z.Now = clk.Now
	c := cache.New(p, cache.WithClock(clk))
	good, err := c.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	z.SetExchangeFault(fakecloud.FaultExpire)
	clk.Advance(150 * time.Minute) // due (2h24m), valid until 3h
	got, err := c.Credentials(context.Background())
	if err != nil || got.IdentityToken != good.IdentityToken {
		t.Fatalf("got %v, %v; want the last good token", got, err)
	}
	clk.Advance(time.Hour)
	_, err = c.Credentials(context.Background())
	if !errors.Is(err, registry.ErrExpired) {
		t.Fatalf("err = %v, want ErrExpired", err)
	}
	assertNoSecret(t, err)
}

func assertNoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{secret, "wrong-secret", fakecloud.RefreshTokenMarker, "AADACCESSTOKEN"} {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error leaks a secret: %v", err)
		}
	}
}

func FuzzJWTExpiry(f *testing.F) {
	f.Add("a.eyJleHAiOjE3MDAwMDAwMDB9.c")
	f.Add("..")
	f.Add("a.e30.c")
	f.Fuzz(func(t *testing.T, tok string) {
		if exp, ok := jwtExpiry(tok); ok && exp.IsZero() {
			t.Fatalf("ok with a zero expiry for %q", tok)
		}
	})
}

func TestJWTExpiry(t *testing.T) {
	tests := []struct {
		tok  string
		want int64
		ok   bool
	}{
		{"h.eyJleHAiOjE3MDAwMDAwMDB9.s", 1700000000, true}, // {"exp":1700000000}
		{"h.eyJleHAiOjEuN2U5fQ.s", 1700000000, true},       // {"exp":1.7e9}
		{"h.e30.s", 0, false},                              // {}
		{"h.eyJleHAiOiJzb29uIn0.s", 0, false},              // {"exp":"soon"}
		{"opaque-token", 0, false},
		{"h.!!!.s", 0, false},
	}
	for _, tt := range tests {
		exp, ok := jwtExpiry(tt.tok)
		if ok != tt.ok || (ok && exp.Unix() != tt.want) {
			t.Errorf("jwtExpiry(%q) = %v, %v; want %d, %v", tt.tok, exp, ok, tt.want, tt.ok)
		}
	}
}
