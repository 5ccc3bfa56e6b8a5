package google

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/providers/internal/golden"
	"strings"
	"testing"
	"time"

	"github.com/regcred/regcred/internal/fakecloud"
	"github.com/regcred/regcred/providers/cache"
	"github.com/regcred/regcred/registry"
)

const email = "puller@my-project.iam.gserviceaccount.com"

func TestAccessToken(t *testing.T) {
	g := fakecloud.NewGoogle(t)
	key := g.NewKey(email)
	p, err := New(key, WithTokenURL(g.TokenURL()), WithHTTPClient(g.Server.Client()))
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	c, err := p.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Username != AccessTokenUsername || !strings.HasPrefix(c.Password.Reveal(), fakecloud.GoogleAccessTokenMarker) {
		t.Fatalf("credentials = %#v", c)
	}
	if d := c.ExpiresAt.Sub(before); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("expires in %v, want about 1h", d)
	}
	claims := g.Claims()
	if len(claims) != 1 {
		t.Fatalf("%d verified assertions, want 1", len(claims))
	}
	cl := claims[0]
	if cl["iss"] != email || cl["scope"] != CloudPlatformScope || cl["aud"] != g.TokenURL() {
		t.Fatalf("claims = %v", cl)
	}
	if life := cl["exp"].(float64) - cl["iat"].(float64); life != 3600 {
		t.Fatalf("assertion lives %vs, want 3600", life)
	}
	if !p.Expiring() || p.Email() != email {
		t.Fatal("provider misdescribed")
	}
}

// The key's own token_uri is used when no override is given.
func TestTokenURIFromKey(t *testing.T) {
	g := fakecloud.NewGoogle(t)
	p, _ := New(g.NewKey(email), WithHTTPClient(g.Server.Client()))
	if _, err := p.Credentials(context.Background()); err != nil || g.Calls() != 1 {
		t.Fatalf("err = %v, calls = %d", err, g.Calls())
	}
}

func TestJSONKey(t *testing.T) {
	g := fakecloud.NewGoogle(t)
	key := g.NewKey(email)
	p, err := New(key, WithMode(JSONKey))
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Username != JSONKeyUsername || c.Password.Reveal() != key || !c.ExpiresAt.IsZero() || p.Expiring() {
		t.Fatalf("credentials = %v", c)
	}
	if g.Calls() != 0 {
		t.Fatal("JSONKey mode called the token endpoint")
	}
}

func TestBadKey(t *testing.T) {
	g := fakecloud.NewGoogle(t)
	good := g.NewKey(email)
	var m map[string]string
	json.Unmarshal([]byte(good), &m)
	edit := func(f func(map[string]string)) string {
		c := map[string]string{}
		for k, v := range m {
			c[k] = v
		}
		f(c)
		b, _ := json.Marshal(c)
		return string(b)
	}
	tests := []struct {
		name, key, reason string
	}{
		{"not json", "{not json", "is not JSON"},
		{"broken pem", edit(func(c map[string]string) {
			c["private_key"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
		}), "does not parse"},
		{"pem newlines lost", edit(func(c map[string]string) { c["private_key"] = strings.ReplaceAll(c["private_key"], "\n", `\n`) }), "not PEM"},
		{"truncated pem", edit(func(c map[string]string) { c["private_key"] = c["private_key"][:200] }), "not PEM"},
		{"no client_email", edit(func(c map[string]string) { delete(c, "client_email") }), "client_email"},
		{"user credentials", edit(func(c map[string]string) { c["type"] = "authorized_user" }), "authorized_user"},
		{"no type", edit(func(c map[string]string) { delete(c, "type") }), "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.key, WithTokenURL(g.TokenURL()))
			var fe *registry.FieldError
			if !errors.As(err, &fe) || fe.Field != "serviceAccountKey" || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("err = %v, want a FieldError for serviceAccountKey mentioning %q", err, tt.reason)
			}
			assertNoSecret(t, err)
		})
	}
	if g.Calls() != 0 {
		t.Fatal("a bad key reached the network")
	}
}

func TestArtifactRegistryHost(t *testing.T) {
	for region, want := range map[string]string{"europe-west1": "europe-west1-docker.pkg.dev", "us": "us-docker.pkg.dev", "us-central1": "us-central1-docker.pkg.dev"} {
		if got, err := ArtifactRegistryHost(region); err != nil || got != want {
			t.Errorf("%s: %q, %v", region, got, err)
		}
	}
	for _, bad := range []string{"", "Europe-West1", "europe-west1.evil.io", "eu-west-1a"} {
		var fe *registry.FieldError
		if _, err := ArtifactRegistryHost(bad); !errors.As(err, &fe) || fe.Field != "region" {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name    string
		unknown bool
		fault   fakecloud.Fault
		timeout time.Duration
		want    error
		mention string
	}{
		{"deleted key (signature does not verify)", true, "", 0, registry.ErrUnauthorized, "Invalid JWT Signature."},
		{"500", false, fakecloud.Fault500, 0, registry.ErrUnavailable, "HTTP 500"},
		{"503 html", false, fakecloud.Fault503, 0, registry.ErrUnavailable, "HTTP 503"},
		{"403", false, fakecloud.FaultDenied, 0, registry.ErrForbidden, "access_denied"},
		{"malformed json", false, fakecloud.FaultJSON, 0, registry.ErrUnavailable, "malformed"},
		{"hang", false, fakecloud.FaultHang, 50 * time.Millisecond, context.DeadlineExceeded, "in time"},
	}
	var messages []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := fakecloud.NewGoogle(t)
			key := g.NewKey(email)
			if tt.unknown {
				key = g.UnknownKey(email)
			}
			g.SetFault(tt.fault)
			p, err := New(key, WithTokenURL(g.TokenURL()), WithHTTPClient(g.Server.Client()), WithName("prod-gar"))
			if err != nil {
				t.Fatal(err)
			}
			msg := golden.Fault(t, p, tt.timeout, tt.want, "prod-gar", tt.mention)
			messages = append(messages, tt.name+": "+msg)
			assertNoSecret(t, errors.New(msg))
		})
	}
	golden.Check(t, "faults.golden", messages)
}

// Through the cache: the last good access token is served while valid when Google fails.
func TestCachedServesLastGood(t *testing.T) {
	clk := clock.NewFake(time.Now())
	g := fakecloud.NewGoogle(t)
	p, _ := New(g.NewKey(email), WithTokenURL(g.TokenURL()), WithHTTPClient(g.Server.Client()))
	c := cache.New(p, cache.WithClock(clk))
	good, err := c.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	g.SetFault(fakecloud.Fault500)
	clk.Advance(50 * time.Minute)
	got, err := c.Credentials(context.Background())
	if err != nil || got.Password != good.Password {
		t.Fatalf("got %v, %v; want the last good token", got, err)
	}
	clk.Advance(20 * time.Minute)
	if _, err := c.Credentials(context.Background()); !errors.Is(err, registry.ErrExpired) || !errors.Is(err, registry.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrExpired with the 500 cause", err)
	}
}

func assertNoSecret(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{fakecloud.GooglePrivateKeyMarker, "PRIVATE KEY", fakecloud.GoogleAccessTokenMarker, "MII"} {
		if err != nil && strings.Contains(err.Error(), s) {
			t.Fatalf("error leaks a secret: %v", err)
		}
	}
}
