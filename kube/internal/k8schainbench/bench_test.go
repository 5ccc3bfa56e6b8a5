package k8schainbench

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	k8schain "github.com/google/go-containerregistry/pkg/authn/kubernetes"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/kube/internal/benchsecrets"
)

func keychains(tb testing.TB) map[string]authn.Keychain {
	secrets := benchsecrets.Secrets()
	ours, err := kube.NewKeychain(secrets)
	if err != nil {
		tb.Fatal(err)
	}
	theirs, err := k8schain.NewFromPullSecrets(context.Background(), secrets)
	if err != nil {
		tb.Fatal(err)
	}
	return map[string]authn.Keychain{"regcred": ours, "k8schain": theirs}
}

// BenchmarkResolve resolves the same repositories (exact host, port, path, wildcard, miss,
// Docker Hub) against the same 1,000 pull Secrets with kube.Keychain and with k8schain.
func BenchmarkResolve(b *testing.B) {
	kcs := keychains(b)
	for _, impl := range []string{"regcred", "k8schain"} {
		kc := kcs[impl]
		for _, img := range benchsecrets.Images {
			repo, err := name.NewRepository(img.Repository)
			if err != nil {
				b.Fatal(err)
			}
			var res authn.Resource = repo // what remote hands a keychain
			b.Run(impl+"/"+img.Name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := kc.Resolve(res); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkNew builds each keychain from the 1,000 Secrets.
func BenchmarkNew(b *testing.B) {
	secrets := benchsecrets.Secrets()
	b.Run("regcred", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := kube.NewKeychain(secrets); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("k8schain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k8schain.NewFromPullSecrets(context.Background(), secrets); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestSameAnswers: both keychains give every benchmark lookup the same credentials, so the
// benchmark compares equal work.
func TestSameAnswers(t *testing.T) {
	kcs := keychains(t)
	for _, img := range benchsecrets.Images {
		repo, err := name.NewRepository(img.Repository)
		if err != nil {
			t.Fatal(err)
		}
		for impl, kc := range kcs {
			a, err := kc.Resolve(repo)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := a.Authorization()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Username != img.User {
				t.Errorf("%s %s: user %q, want %q", impl, img.Name, cfg.Username, img.User)
			}
		}
	}
}
