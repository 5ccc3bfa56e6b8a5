package kube_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

func auth(u, p string) string { return base64.StdEncoding.EncodeToString([]byte(u + ":" + p)) }

func pullSecrets() []corev1.Secret {
	return []corev1.Secret{
		{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "json"},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{
				"*.example.com":{"auth":"` + auth("wild", "1") + `"},
				"registry.example.com:5000/team":{"auth":"` + auth("team", "2") + `"},
				"registry.example.com:5000":{"auth":"` + auth("host", "3") + `"},
				"https://index.docker.io/v1/":{"auth":"` + auth("hub", "4") + `"},
				"ghcr.io/org":{"username":"org","password":"5"}}}`)},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "legacy"},
			Type:       corev1.SecretTypeDockercfg,
			Data:       map[string][]byte{corev1.DockerConfigKey: []byte(`{"https://quay.io":{"auth":"` + auth("robot", "6") + `","email":"x@y"}}`)},
		},
	}
}

func TestKeychainKubeletMatching(t *testing.T) {
	k, err := kube.NewKeychain(pullSecrets())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		image string
		want  []string // usernames, in the order the kubelet tries them
	}{
		{"registry.example.com:5000/team/app:1", []string{"team", "host", "wild"}}, // the wildcard key has no port: any port
		{"registry.example.com:5000/teamx/app", []string{"host", "wild"}},
		{"registry.example.com/app", []string{"wild"}},        // no port in the wildcard key: any port
		{"registry.example.com:443/app", []string{"wild"}},    // ...including this one
		{"a.b.example.com/app", nil},                          // "*" is one label
		{"example.com/app", nil},                              // parts must be as many
		{"nginx", []string{"hub"}},                            // docker.io/library/nginx
		{"docker.io/user/app@sha256:" + sha, []string{"hub"}}, // digest
		{"ghcr.io/org/app", []string{"org"}},
		{"ghcr.io/organisation/app", nil}, // path prefix on whole segments
		{"quay.io/team/app", []string{"robot"}},
		{"unknown.io/app", nil},
	} {
		t.Run(tc.image, func(t *testing.T) {
			var got []string
			for _, m := range k.Lookup(tc.image) {
				got = append(got, m.Credentials.Username)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
		})
	}
}

const sha = "0000000000000000000000000000000000000000000000000000000000000000"

func TestKeychainResolve(t *testing.T) {
	k, err := kube.NewKeychain(pullSecrets())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ref, want string }{
		{"registry.example.com:5000/team/app", "team"},
		{"index.docker.io/library/nginx", "hub"},
		{"unknown.io/app", ""},
	} {
		repo, err := name.NewRepository(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		a, err := k.Resolve(repo)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := a.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Username != tc.want {
			t.Errorf("%s: user %q, want %q", tc.ref, cfg.Username, tc.want)
		}
		if tc.want == "" && a != authn.Anonymous {
			t.Errorf("%s: want anonymous", tc.ref)
		}
	}
}

func TestKeychainRejectsOtherSecrets(t *testing.T) {
	for _, s := range []corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "opaque"}, Type: corev1.SecretTypeOpaque},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "bad"}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"x.io":{"auth":"!!"}}}`)}},
	} {
		_, err := kube.NewKeychain([]corev1.Secret{s})
		if !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), "ns/"+s.Name) {
			t.Errorf("%s: got %v", s.Name, err)
		}
	}
}

func TestGlobHost(t *testing.T) {
	for _, tc := range []struct {
		pattern, host string
		want          bool
	}{
		{"*.azurecr.io", "myreg.azurecr.io", true},
		{"*.azurecr.io", "azurecr.io", false},
		{"*.*.amazonaws.com", "x.dkr.amazonaws.com", true},
		{"k8s.*", "k8s.io", true},
		{"app*.k8s.io", "app1.k8s.io", true},
		{"app*.k8s.io", "web.k8s.io", false},
		{"*.io", "a.k8s.io", false},
	} {
		if got := kube.GlobHost(tc.pattern, tc.host); got != tc.want {
			t.Errorf("GlobHost(%q, %q) = %v, want %v", tc.pattern, tc.host, got, tc.want)
		}
	}
}
