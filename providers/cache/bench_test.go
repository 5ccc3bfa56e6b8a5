package cache

import (
	"context"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/regcred/regcred/registry"
)

// BenchmarkCachedHit measures the hot path: a fresh cached credential, the real clock.
// Compare with BenchmarkOAuth2ReuseTokenSource, what a Go program would otherwise use.
func BenchmarkCachedHit(b *testing.B) {
	up := registry.ProviderFunc(func(context.Context) (registry.Credentials, error) {
		return registry.Credentials{Username: "AWS", Password: "token", ExpiresAt: time.Now().Add(12 * time.Hour)}, nil
	})
	p := New(up)
	ctx := context.Background()
	if _, err := p.Credentials(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c, err := p.Credentials(ctx)
		if err != nil || c.Password == "" {
			b.Fatal("miss")
		}
	}
}

func BenchmarkCachedHitParallel(b *testing.B) {
	up := registry.ProviderFunc(func(context.Context) (registry.Credentials, error) {
		return registry.Credentials{Username: "AWS", Password: "token", ExpiresAt: time.Now().Add(12 * time.Hour)}, nil
	})
	p := New(up)
	ctx := context.Background()
	p.Credentials(ctx)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Credentials(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type staticTS struct{ t *oauth2.Token }

func (s staticTS) Token() (*oauth2.Token, error) { return s.t, nil }

func BenchmarkOAuth2ReuseTokenSource(b *testing.B) {
	tok := &oauth2.Token{AccessToken: "token", TokenType: "Bearer", Expiry: time.Now().Add(12 * time.Hour)}
	ts := oauth2.ReuseTokenSource(tok, staticTS{tok})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t, err := ts.Token()
		if err != nil || t.AccessToken == "" {
			b.Fatal("miss")
		}
	}
}

func BenchmarkOAuth2ReuseTokenSourceParallel(b *testing.B) {
	tok := &oauth2.Token{AccessToken: "token", TokenType: "Bearer", Expiry: time.Now().Add(12 * time.Hour)}
	ts := oauth2.ReuseTokenSource(tok, staticTS{tok})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ts.Token(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
