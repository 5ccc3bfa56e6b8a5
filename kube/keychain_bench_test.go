package kube_test

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/kube/internal/benchsecrets"
)

// BenchmarkKeychainResolve resolves repositories against 1,000 pull Secrets (exact host,
// port, path, wildcard, miss, Docker Hub). go-containerregistry's k8schain, over the same
// Secrets, runs beside it in the nested module kube/internal/k8schainbench:
//
//	go test -run '^$' -bench KeychainResolve -benchmem ./kube/
//	cd kube/internal/k8schainbench && GOFLAGS=-mod=mod go test -run '^$' -bench . -benchmem
func BenchmarkKeychainResolve(b *testing.B) {
	k, err := kube.NewKeychain(benchsecrets.Secrets())
	if err != nil {
		b.Fatal(err)
	}
	for _, img := range benchsecrets.Images {
		repo, err := name.NewRepository(img.Repository)
		if err != nil {
			b.Fatal(err)
		}
		var res authn.Resource = repo // what remote hands a keychain
		b.Run(img.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Resolve(res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNewKeychain builds the index of 1,000 pull Secrets.
func BenchmarkNewKeychain(b *testing.B) {
	secrets := benchsecrets.Secrets()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kube.NewKeychain(secrets); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBenchSecretsResolve: every benchmark lookup gives the credentials it is meant to.
func TestBenchSecretsResolve(t *testing.T) {
	k, err := kube.NewKeychain(benchsecrets.Secrets())
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range benchsecrets.Images {
		repo, err := name.NewRepository(img.Repository)
		if err != nil {
			t.Fatal(err)
		}
		_, cfg := resolve(t, k, repo)
		if cfg.Username != img.User || img.User != "" && cfg.Password != "p-"+img.User {
			t.Errorf("%s: user %q, want %q", img.Name, cfg.Username, img.User)
		}
		if got := k.Lookup(img.Repository); len(got) > 0 != (img.User != "") || len(got) > 0 && got[0].Credentials.Username != img.User {
			t.Errorf("%s: Lookup %v", img.Name, got)
		}
	}
}
