package kube_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
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
		{"registry.example.com:5000/team/app:1", []string{"team", "host"}}, // the wildcard key has no port: no port only
		{"registry.example.com:5000/teamx/app", []string{"team", "host"}},  // a path prefix is a string prefix
		{"registry.example.com/app", []string{"wild"}},
		{"registry.example.com:443/app", nil},                 // a key without a port matches no port only
		{"a.b.example.com/app", nil},                          // "*" is one label
		{"example.com/app", nil},                              // parts must be as many
		{"nginx", []string{"hub"}},                            // docker.io/library/nginx
		{"docker.io/user/app@sha256:" + sha, []string{"hub"}}, // digest
		{"ghcr.io/org/app", []string{"org"}},
		{"ghcr.io/organisation/app", []string{"org"}}, // "ghcr.io/org" is a string prefix of it
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

// resolve asks k for res and returns the authenticator and its authorization.
func resolve(t *testing.T, k authn.Keychain, res authn.Resource) (authn.Authenticator, *authn.AuthConfig) {
	t.Helper()
	a, err := k.Resolve(res)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := a.Authorization()
	if err != nil {
		t.Fatal(err)
	}
	return a, cfg
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
		a, cfg := resolve(t, k, repo)
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

// TestKeychainOneIndexAcrossSecrets: the kubelet puts every pull Secret into one index, so a
// path key in a later Secret beats a host key in an earlier one (issue 10).
func TestKeychainOneIndexAcrossSecrets(t *testing.T) {
	secret := func(name, key, user string) corev1.Secret {
		return corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"` + key + `":{"auth":"` + auth(user, "pw") + `"}}}`)},
		}
	}
	k, err := kube.NewKeychain([]corev1.Secret{
		secret("host", "registry.example.com", "host"),
		secret("team", "registry.example.com/team-a", "team-a"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range k.Lookup("registry.example.com/team-a/app:1") {
		got = append(got, m.Secret)
	}
	if d := cmp.Diff([]string{"ns/team", "ns/host"}, got); d != "" {
		t.Errorf("Lookup (-want +got):\n%s", d)
	}
	a, err := k.Resolve(name.MustParseReference("registry.example.com/team-a/app:1").Context())
	if err != nil {
		t.Fatal(err)
	}
	if cfg, _ := a.Authorization(); cfg.Username != "team-a" {
		t.Errorf("Resolve: user %q, want team-a", cfg.Username)
	}
}

// TestKeychainEmptyImage: an empty image matches nothing, not Docker Hub.
func TestKeychainEmptyImage(t *testing.T) {
	k, err := kube.NewKeychain(pullSecrets())
	if err != nil {
		t.Fatal(err)
	}
	for _, image := range []string{"", " ", "/", "@sha256:" + sha} {
		if got := k.Lookup(image); len(got) != 0 {
			t.Errorf("Lookup(%q) = %v, want nothing", image, got)
		}
	}
}

// TestKeychainNeverPrintsSecrets: a Keychain holds credentials; no way of printing it, or
// what Lookup returns, shows one.
func TestKeychainNeverPrintsSecrets(t *testing.T) {
	const pw = "s3cr3t-never-printed"
	k, err := kube.NewKeychain([]corev1.Secret{{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"ghcr.io/org":{"auth":"` + auth("org", pw) + `"}}}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v %+v %#v %s", k, k, k, k)
	slog.New(slog.NewJSONHandler(&b, nil)).Info("k", "keychain", k)
	ms := k.Lookup("ghcr.io/org/app")
	if len(ms) != 1 {
		t.Fatalf("Lookup: %v", ms)
	}
	fmt.Fprintf(&b, "%v %+v %#v", ms[0], ms[0], ms[0])
	slog.New(slog.NewJSONHandler(&b, nil)).Info("m", "match", ms[0], "creds", ms[0].Credentials)
	if s := b.String(); strings.Contains(s, pw) || strings.Contains(s, auth("org", pw)) {
		t.Fatalf("a secret was printed: %s", s)
	}
}

// TestKeychainResolveRegistry: a registry (no repository) gets the host key's credentials,
// never a path key's; Docker Hub's registry gets the index.docker.io fallback.
func TestKeychainResolveRegistry(t *testing.T) {
	k, err := kube.NewKeychain(pullSecrets())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ registry, want string }{
		{"registry.example.com:5000", "host"},
		{"ghcr.io", ""}, // only "ghcr.io/org" is saved
		{"index.docker.io", "hub"},
		{"quay.io", "robot"},
		{"localhost:5000", ""},
	} {
		reg, err := name.NewRegistry(tc.registry)
		if err != nil {
			t.Fatal(err)
		}
		_, cfg := resolve(t, k, reg)
		if cfg.Username != tc.want {
			t.Errorf("%s: user %q, want %q", tc.registry, cfg.Username, tc.want)
		}
	}
}
