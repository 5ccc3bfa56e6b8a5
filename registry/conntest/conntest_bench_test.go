package conntest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
)

// BenchmarkTestAll tests 20 loopback registries that each answer every request after a
// fixed delay (a basic challenge, then 200 with credentials: 2 round trips), once
// concurrently (the default bound, 8, and 20) and once one by one. The ns/op ratio of
// sequential to concurrent is the speed-up; concurrent time is about that of the slowest
// registries per wave, not their sum.
func BenchmarkTestAll(b *testing.B) {
	const registries, delay = 20, 10 * time.Millisecond
	var regs []registry.Registry
	for i := range registries {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(delay)
			if _, _, ok := r.BasicAuth(); !ok {
				w.Header().Set("WWW-Authenticate", `Basic realm="bench"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
		b.Cleanup(s.Close)
		regs = append(regs, registry.Registry{ID: fmt.Sprint("bench-", i), Name: fmt.Sprint("bench-", i), Kind: registry.KindCustom,
			Server: s.URL, TLS: registry.TLS{Mode: registry.TLSInsecure}, Fields: map[string]string{"username": "u", "password": "p"}})
	}
	for _, bc := range []struct {
		name string
		n    int
	}{{"concurrent-20", 20}, {"concurrent-8", 8}, {"sequential", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				for _, rep := range conntest.TestAll(context.Background(), regs, conntest.WithConcurrency(bc.n)) {
					if !rep.OK() {
						b.Fatal(rep)
					}
				}
			}
		})
	}
}

// BenchmarkTestLocalRegistry is the latency of one full test (fields to image, basic auth,
// 3 round trips) against the real docker-registry on loopback, over TLS with a custom CA.
func BenchmarkTestLocalRegistry(b *testing.B) {
	s := testenv.StartRegistry(b, testenv.WithTLS(), testenv.WithBasicAuth("alice", "s3cret"))
	img := s.Push(b, "bench/app:v1")
	reg := registry.Registry{ID: "local", Name: "local", Kind: registry.KindCustom, Server: s.Host,
		TLS: registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(s.CAPEM)}, Fields: map[string]string{"username": "alice", "password": "s3cret"}}
	b.Run("basic+tls+image", func(b *testing.B) {
		for b.Loop() {
			if rep := conntest.Test(context.Background(), reg, conntest.WithImage(img)); !rep.OK() {
				b.Fatal(rep)
			}
		}
	})
	// What a user would otherwise run: go-containerregistry's remote.Head (ping, auth, HEAD;
	// no DNS/TCP/TLS diagnosis), with the same credentials and CA.
	b.Run("baseline-ggcr-remote.Head", func(b *testing.B) {
		ref, err := name.ParseReference(img)
		if err != nil {
			b.Fatal(err)
		}
		tr := s.Transport()
		auth := authn.FromConfig(authn.AuthConfig{Username: "alice", Password: "s3cret"})
		for b.Loop() {
			if _, err := remote.Head(ref, remote.WithAuth(auth), remote.WithTransport(tr)); err != nil {
				b.Fatal(err)
			}
		}
	})
	tok := testenv.StartRegistry(b, testenv.WithTLS(), testenv.WithTokenAuth("bob", "bob-pw"))
	timg := tok.Push(b, "bench/app:v1")
	treg := registry.Registry{ID: "local-token", Name: "local-token", Kind: registry.KindCustom, Server: tok.Host,
		TLS: registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(tok.CAPEM)}, Fields: map[string]string{"username": "bob", "password": "bob-pw"}}
	b.Run("bearer+tls+image", func(b *testing.B) {
		for b.Loop() {
			if rep := conntest.Test(context.Background(), treg, conntest.WithImage(timg)); !rep.OK() {
				b.Fatal(rep)
			}
		}
	})
}
