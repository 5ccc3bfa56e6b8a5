package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	credv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"

	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

// kubeletCache models how the kubelet caches a credential provider plugin's responses and
// turns them into the credentials of a pull. Ported, as our own code, from kubernetes/
// kubernetes pkg/credentialprovider/plugin/plugin.go (the version with service account
// tokens and perPodPluginProvider, v1.33 or later: pluginProvider.provide,
// getCachedCredentials, cacheExpirationPolicy, parseRegistry), without service account
// tokens, which this plugin does not use:
//
//   - before it runs the plugin for an image it looks in its cache under the image, then
//     under parseRegistry(image) (the image up to its first "/"), then under "<global>";
//     the first entry found is the answer, whatever its auth map holds;
//   - a response is cached under the image, its registry or "<global>" as cacheKeyType
//     says; a cacheKeyType it does not know makes the answer empty, cached nowhere;
//   - cacheDuration 0 caches nothing; an unset cacheDuration means defaultCacheDuration
//     (and nothing cached when that is 0); an entry expires once the clock is after
//     now+duration;
//   - the answer (a DockerConfig) then goes through the keyring: kube.Keychain, which ports
//     keyring.go, picks the credentials for the image.
type kubeletCache struct {
	now                  time.Time
	defaultCacheDuration time.Duration
	entries              map[string]kubeletCacheEntry
	execs                int
}

type kubeletCacheEntry struct {
	auth      map[string]credv1.AuthConfig
	expiresAt time.Time
}

const kubeletGlobalCacheKey = "<global>"

func newKubeletCache(defaultCacheDuration time.Duration) *kubeletCache {
	return &kubeletCache{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), defaultCacheDuration: defaultCacheDuration,
		entries: map[string]kubeletCacheEntry{}}
}

func kubeletParseRegistry(image string) string { return strings.Split(image, "/")[0] }

// provide is pluginProvider.provide: the auth map the kubelet has for image.
func (c *kubeletCache) provide(t *testing.T, image string, exec func(image string) (*credv1.CredentialProviderResponse, error)) map[string]credv1.AuthConfig {
	t.Helper()
	for _, key := range []string{image, kubeletParseRegistry(image), kubeletGlobalCacheKey} {
		if e, ok := c.entries[key]; ok {
			if !c.now.After(e.expiresAt) {
				return e.auth
			}
			delete(c.entries, key) // the expiration store drops an expired entry on Get
		}
	}
	c.execs++
	resp, err := exec(image)
	if err != nil {
		return nil // the kubelet logs the error and pulls without the plugin's credentials
	}
	var key string
	switch resp.CacheKeyType {
	case credv1.ImagePluginCacheKeyType:
		key = image
	case credv1.RegistryPluginCacheKeyType:
		key = kubeletParseRegistry(image)
	case credv1.GlobalPluginCacheKeyType:
		key = kubeletGlobalCacheKey
	default:
		return nil
	}
	if resp.CacheDuration != nil && resp.CacheDuration.Duration == 0 {
		return resp.Auth
	}
	d := c.defaultCacheDuration
	if resp.CacheDuration != nil {
		d = resp.CacheDuration.Duration
	} else if d == 0 {
		return resp.Auth
	}
	c.entries[key] = kubeletCacheEntry{auth: resp.Auth, expiresAt: c.now.Add(d)}
	return resp.Auth
}

// kubeletPicks is the keyring's answer for image from an auth map: the username of the
// first credentials the kubelet tries, "" for none.
func kubeletPicks(t *testing.T, auth map[string]credv1.AuthConfig, image string) string {
	t.Helper()
	type entry struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	m := map[string]entry{}
	for k, a := range auth {
		m[k] = entry{a.Username, a.Password}
	}
	b, err := json.Marshal(map[string]any{"auths": m})
	if err != nil {
		t.Fatal(err)
	}
	k, err := kube.NewKeychain([]corev1.Secret{{Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: b}}})
	if err != nil {
		t.Fatal(err)
	}
	got := k.Lookup(image)
	if len(got) == 0 {
		return ""
	}
	return got[0].Credentials.Username
}

// TestKubeletCacheModel checks the model against plugin_test.go's Test_Provide table
// (every cacheKeyType with exact and wildcard keys) and Test_getCachedCredentials (expiry),
// ported as data.
func TestKubeletCacheModel(t *testing.T) {
	userPass := credv1.AuthConfig{Username: "user", Password: "password"}
	for _, tc := range []struct {
		name      string
		keyType   credv1.PluginCacheKeyType
		authKey   string
		image     string
		wantCache string // the cache key the response lands under
	}{
		{"exact image match, with Registry cache key", credv1.RegistryPluginCacheKeyType, "test.registry.io", "test.registry.io/foo/bar", "test.registry.io"},
		{"exact image match, with Image cache key", credv1.ImagePluginCacheKeyType, "test.registry.io/foo/bar", "test.registry.io/foo/bar", "test.registry.io/foo/bar"},
		{"exact image match, with Global cache key", credv1.GlobalPluginCacheKeyType, "test.registry.io", "test.registry.io", kubeletGlobalCacheKey},
		{"wild card image match, with Registry cache key", credv1.RegistryPluginCacheKeyType, "*.registry.io:8080", "test.registry.io:8080/foo", "test.registry.io:8080"},
		{"wild card image match, with Image cache key", credv1.ImagePluginCacheKeyType, "*.*.registry.io", "foo.bar.registry.io/foo/bar", "foo.bar.registry.io/foo/bar"},
		{"wild card image match, with Global cache key", credv1.GlobalPluginCacheKeyType, "*.registry.io", "test.registry.io", kubeletGlobalCacheKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newKubeletCache(0)
			resp := &credv1.CredentialProviderResponse{CacheKeyType: tc.keyType, CacheDuration: &metav1.Duration{Duration: time.Minute},
				Auth: map[string]credv1.AuthConfig{tc.authKey: userPass}}
			got := c.provide(t, tc.image, func(string) (*credv1.CredentialProviderResponse, error) { return resp, nil })
			if d := cmp.Diff(resp.Auth, got); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
			if _, ok := c.entries[tc.wantCache]; !ok || len(c.entries) != 1 {
				t.Fatalf("cached under %v, want %q", c.entries, tc.wantCache)
			}
			// (An image without a path, which upstream passes as is, is a Docker Hub name to
			// the kubelet's puller and to kube.Keychain.Lookup: no keyring check for those.)
			if u := kubeletPicks(t, got, tc.image); strings.Contains(tc.image, "/") && u != "user" {
				t.Fatalf("keyring picks %q for %s", u, tc.image)
			}
			// Test_getCachedCredentials: served from the cache until it expires.
			c.now = c.now.Add(59 * time.Second)
			c.provide(t, tc.image, func(string) (*credv1.CredentialProviderResponse, error) {
				t.Fatal("ran the plugin although a cached answer is valid")
				return nil, nil
			})
			c.now = c.now.Add(2 * time.Second)
			c.provide(t, tc.image, func(string) (*credv1.CredentialProviderResponse, error) { return resp, nil })
			if c.execs != 2 {
				t.Fatalf("plugin ran %d times, want 2 (once more after expiry)", c.execs)
			}
		})
	}
	t.Run("cacheDuration 0 caches nothing; unset uses the default", func(t *testing.T) {
		c := newKubeletCache(time.Hour)
		c.provide(t, "a.io/x", func(string) (*credv1.CredentialProviderResponse, error) {
			return &credv1.CredentialProviderResponse{CacheKeyType: credv1.RegistryPluginCacheKeyType, CacheDuration: &metav1.Duration{}}, nil
		})
		c.provide(t, "b.io/x", func(string) (*credv1.CredentialProviderResponse, error) {
			return &credv1.CredentialProviderResponse{CacheKeyType: credv1.RegistryPluginCacheKeyType}, nil
		})
		if _, ok := c.entries["a.io"]; ok {
			t.Error("cacheDuration 0 was cached")
		}
		if e, ok := c.entries["b.io"]; !ok || !e.expiresAt.Equal(c.now.Add(time.Hour)) {
			t.Errorf("unset cacheDuration: %v", c.entries)
		}
	})
}

// TestKubeletCacheNeverCrossesPaths runs the plugin's answers through the kubelet's cache
// (the model above) for every order of pulls on one node, and checks that every pull gets
// the credentials regcred's Keychain gives that image, or none when it gives none: the
// cache never serves one path's credentials, nor an empty answer, to another path of the
// same host (issue 10).
//
// This is the unit test, on a model: the real kubelet v1.31 judges the same scenarios end
// to end (each in two orders, on one node, through the built plugin) in internal/e2e's
// TestKubeletCache; keep the two tables in step.
func TestKubeletCacheNeverCrossesPaths(t *testing.T) {
	custom := func(server, user string) registry.Registry {
		return registry.Registry{ID: user, Name: user, Kind: registry.KindCustom, Server: server,
			Fields: map[string]string{"username": user, "password": "pw-" + user}}
	}
	for _, sc := range []struct {
		name   string
		regs   []registry.Registry
		images map[string]string // normalized image, as the kubelet sends it -> user ("" none)
	}{
		{"two paths of one host", []registry.Registry{
			custom("registry.example.com/team-a", "team-a"), custom("registry.example.com/team-b", "team-b"),
		}, map[string]string{
			"registry.example.com/team-a/app": "team-a",
			"registry.example.com/team-b/app": "team-b",
			"registry.example.com/other/app":  "",
		}},
		{"one path, the rest of the host anonymous", []registry.Registry{
			custom("registry.example.com/team-a", "team-a"),
		}, map[string]string{
			"registry.example.com/team-a/app":  "team-a",
			"registry.example.com/other/app":   "",
			"registry.example.com/team-ab/app": "", // the kubelet's string prefix would say team-a
		}},
		{"host and path", []registry.Registry{
			custom("registry.example.com", "host"), custom("registry.example.com/team-a", "team-a"),
		}, map[string]string{
			"registry.example.com/team-a/app": "team-a",
			"registry.example.com/other/app":  "host",
			"registry.example.com/team-a":     "team-a",
		}},
		{"ports", []registry.Registry{
			custom("registry.example.com:5000", "port"), custom("registry.example.com", "host"), custom("registry.example.com:5000/team", "team"),
		}, map[string]string{
			"registry.example.com:5000/app":      "port",
			"registry.example.com/app":           "host",
			"registry.example.com:5000/team/app": "team",
			"registry.example.com:5001/app":      "",
		}},
		{"wildcard and path", []registry.Registry{
			custom("*.example.com", "wild"), custom("registry.example.com/team-a", "team-a"),
		}, map[string]string{
			"registry.example.com/team-a/app": "team-a",
			"registry.example.com/x":          "wild",
			"other.example.com/team-a/app":    "wild",
		}},
		{"docker hub and a hub namespace", []registry.Registry{
			{ID: "hub", Name: "hub", Kind: registry.KindDockerHub, Fields: map[string]string{"username": "hub", "password": "pw-hub"}},
			custom("docker.io/myorg", "myorg"),
		}, map[string]string{
			"docker.io/library/nginx": "hub",
			"docker.io/myorg/app":     "myorg",
			"docker.io/someone/app":   "hub",
		}},
		{"public host with one private path", []registry.Registry{
			{ID: "quay", Name: "quay", Kind: registry.KindPublic, Server: "quay.io"}, custom("quay.io/private-org", "private"),
		}, map[string]string{
			"quay.io/private-org/app": "private",
			"quay.io/prometheus/node": "",
		}},
		{"hosts without paths share one answer per registry", []registry.Registry{
			custom("registry.example.com", "host"),
		}, map[string]string{
			"registry.example.com/a":      "host",
			"registry.example.com/b":      "host",
			"other.example.com/b":         "",
			"registry.example.com:5000/a": "",
		}},
	} {
		var images []string
		for img := range sc.images {
			images = append(images, img)
		}
		for _, def := range []time.Duration{12 * time.Hour, 0} {
			for _, order := range permutations(images) {
				t.Run(fmt.Sprintf("%s/default=%v/%s", sc.name, def, strings.Join(order, ",")), func(t *testing.T) {
					c := newKubeletCache(def)
					exec := func(image string) (*credv1.CredentialProviderResponse, error) {
						return respond(context.Background(), &credv1.CredentialProviderRequest{Image: image}, sc.regs, registry.StaticFactory, func() time.Time { return c.now })
					}
					for pass := range 2 { // the second pass is served from the cache
						for _, img := range order {
							auth := c.provide(t, img, exec)
							if got, want := kubeletPicks(t, auth, img), sc.images[img]; got != want {
								t.Fatalf("pass %d, %s: the kubelet uses %q, want %q (cache %v)", pass+1, img, got, want, cacheKeys(c))
							}
						}
					}
				})
			}
		}
	}
}

func cacheKeys(c *kubeletCache) []string {
	var out []string
	for k := range c.entries {
		out = append(out, k)
	}
	return out
}

func permutations(s []string) [][]string {
	if len(s) <= 1 {
		return [][]string{append([]string(nil), s...)}
	}
	var out [][]string
	for i := range s {
		rest := append(append([]string(nil), s[:i]...), s[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]string{s[i]}, p...))
		}
	}
	return out
}
