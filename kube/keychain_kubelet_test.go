package kube

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcred/regcred/registry"
)

// The tables in this file are ported from the kubelet's own tests, as data we wrote:
//
//   - kubernetes/kubernetes pkg/credentialprovider/keyring_test.go, the last version
//     before v1.33 changed Add to Add(src, cfg) (it has providersDockerKeyring), read
//     beside keyring.go of v1.33+ (TrackedAuthConfig, Add(src, cfg)), whose Add, URLsMatch
//     and Lookup match exactly as before;
//   - pkg/credentialprovider/config_test.go (DockerConfigEntry decoding);
//   - pkg/credentialprovider/secrets/secrets.go (MakeDockerKeyring: every pull Secret into
//     one BasicDockerKeyring).
//
// They run against lookup, the kubelet's BasicDockerKeyring.Lookup on the image string it
// is given; Lookup (exported) normalizes an image first, as the kubelet's puller does with
// parsers.ParseImageName before it calls the keyring. A row marked "divergence" states what
// the kubelet does instead, and why we differ (kube/doc.go lists them too).

// secretOf is one dockerconfigjson Secret with the given auths (key -> username; the
// password is "pw-"+username).
func secretOf(name string, auths map[string]string) corev1.Secret {
	type entry struct {
		Auth  string `json:"auth"`
		Email string `json:"email,omitempty"`
	}
	m := map[string]entry{}
	for k, u := range auths {
		m[k] = entry{Auth: base64.StdEncoding.EncodeToString([]byte(u + ":pw-" + u)), Email: u + "@example.com"}
	}
	b, err := json.Marshal(map[string]any{"auths": m})
	if err != nil {
		panic(err)
	}
	return corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: b},
	}
}

func mustKeychain(t *testing.T, secrets ...corev1.Secret) *Keychain {
	t.Helper()
	k, err := NewKeychain(secrets)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func users(ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Credentials.Username)
		if m.Credentials.Password.Reveal() != "pw-"+m.Credentials.Username {
			out = append(out, "(wrong password)")
		}
	}
	return out
}

// TestKubeletURLsMatch is keyring_test.go's TestURLsMatch: one key, one image.
func TestKubeletURLsMatch(t *testing.T) {
	for _, tc := range []struct {
		glob, target string
		want         bool
	}{
		// match when there is no path component
		{"*.kubernetes.io", "prefix.kubernetes.io", true},
		{"prefix.*.io", "prefix.kubernetes.io", true},
		{"prefix.kubernetes.*", "prefix.kubernetes.io", true},
		{"*-good.kubernetes.io", "prefix-good.kubernetes.io", true},
		// match with path components
		{"*.kubernetes.io/blah", "prefix.kubernetes.io/blah", true},
		{"prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", true},
		// match with path components and ports
		{"*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", true},
		{"prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", true},
		// no match when number of parts mismatch
		{"*.kubernetes.io", "kubernetes.io", false},
		{"*.*.kubernetes.io", "prefix.kubernetes.io", false},
		{"*.*.kubernetes.io", "kubernetes.io", false},
		{"*kubernetes.io", "a.kubernetes.io", false},
		// match when number of parts match
		{"*kubernetes.io", "kubernetes.io", true},
		{"*.*.*.kubernetes.io", "a.b.c.kubernetes.io", true},
		// no match when some parts mismatch
		{"kubernetes.io", "kubernetes.com", false},
		{"k*.io", "quay.io", false},
		// no match when ports mismatch
		{"*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", false},
		{"prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", false},
		// ours: the same rules on literal hosts, which take the exact-host index
		{"prefix.kubernetes.io/foo", "prefix.kubernetes.io/foo/bar", true},
		{"prefix.kubernetes.io", "prefix.kubernetes.io:1111/foo", false},
		{"prefix.kubernetes.io:1111", "prefix.kubernetes.io/foo", false},
		{"prefix.kubernetes.io/foo", "prefix.kubernetes.io/foobar", true}, // a string prefix, not whole segments
		{"prefix.kubernetes.io/foo/", "prefix.kubernetes.io/foo", false},
		{"Prefix.kubernetes.io", "prefix.kubernetes.io/x", false}, // hosts compare case-sensitively
		{"[::1]:5000", "[::1]:5000/x", true},
		{"[::1]", "[::1]/x", false},                               // the kubelet cannot match an IPv6 literal without a port
		{"prefix.kubernetes.io:", "prefix.kubernetes.io/x", true}, // net.SplitHostPort: an empty port is no port
	} {
		k := mustKeychain(t, secretOf("s", map[string]string{tc.glob: "u"}))
		got := len(k.lookup(tc.target)) > 0
		if got != tc.want {
			t.Errorf("key %q, image %q: match %v, want %v", tc.glob, tc.target, got, tc.want)
		}
		// Resolve's path (first credentials only) agrees with lookup.
		host, repo, hasRepo := strings.Cut(tc.target, "/")
		if auth, _ := k.resolve(host, repo, hasRepo); (auth != nil) != tc.want {
			t.Errorf("key %q, image %q: resolve found %v, want %v", tc.glob, tc.target, auth != nil, tc.want)
		}
	}
}

// TestKubeletKeyringForGlob is TestDockerKeyringForGlob (hits, looked up as target+"/foo/bar")
// and TestKeyringMiss (misses).
func TestKubeletKeyringForGlob(t *testing.T) {
	for _, tc := range []struct {
		glob, target string
		want         bool
	}{
		{"https://hello.kubernetes.io", "hello.kubernetes.io", true},
		{"https://*.docker.io", "prefix.docker.io", true},
		{"https://prefix.*.io", "prefix.docker.io", true},
		{"https://prefix.docker.*", "prefix.docker.io", true},
		{"https://*.docker.io/path", "prefix.docker.io/path", true},
		{"https://prefix.*.io/path", "prefix.docker.io/path/subpath", true},
		{"https://prefix.docker.*/path", "prefix.docker.io/path", true},
		{"https://*.docker.io:8888", "prefix.docker.io:8888", true},
		{"https://prefix.*.io:8888", "prefix.docker.io:8888", true},
		{"https://prefix.docker.*:8888", "prefix.docker.io:8888", true},
		{"https://*.docker.io/path:1111", "prefix.docker.io/path:1111", true},
		{"https://*.docker.io/v1/", "prefix.docker.io/path:1111", true},
		{"https://*.docker.io/v2/", "prefix.docker.io/path:1111", true},
		{"https://prefix.docker.*/path:1111", "prefix.docker.io/path:1111", true},
		{"prefix.docker.io:1111", "prefix.docker.io:1111/path", true},
		{"*.docker.io:1111", "prefix.docker.io:1111/path", true},
		// TestKeyringMiss
		{"https://hello.kubernetes.io", "world.mesos.org/foo/bar", false},
		{"https://*.docker.com", "prefix.docker.io", false},
		{"https://suffix.*.io", "prefix.docker.io", false},
		{"https://prefix.docker.c*", "prefix.docker.io", false},
		{"https://prefix.*.io/path:1111", "prefix.docker.io/path/subpath:1111", false},
		{"suffix.*.io", "prefix.docker.io", false},
	} {
		k := mustKeychain(t, secretOf("s", map[string]string{tc.glob: "foo"}))
		got := k.lookup(tc.target + "/foo/bar")
		if !tc.want {
			if len(got) != 0 {
				t.Errorf("key %q, image %q: found %v, want a miss", tc.glob, tc.target, users(got))
			}
			continue
		}
		if len(got) == 0 {
			t.Errorf("key %q, image %q: miss", tc.glob, tc.target)
			continue
		}
		if c := got[0].Credentials; c.Username != "foo" || c.Password.Reveal() != "pw-foo" {
			t.Errorf("key %q: got %v", tc.glob, c)
		}
	}
}

// TestKubeletDockerHub is TestKeyringMissWithDockerHubCredentials,
// TestKeyringHitWithUnqualifiedDockerHub, TestKeyringHitWithUnqualifiedLibraryDockerHub and
// TestKeyringHitWithQualifiedDockerHub, through Lookup (which normalizes as the kubelet's
// puller does) and, for the raw strings the upstream tests pass, through lookup.
func TestKubeletDockerHub(t *testing.T) {
	k := mustKeychain(t, secretOf("s", map[string]string{"https://index.docker.io/v1/": "foo"}))
	for _, tc := range []struct {
		image string
		raw   bool // through lookup, as given
		want  []string
	}{
		{"world.mesos.org/foo/bar", true, nil},
		{"world.mesos.org/foo/bar", false, nil},
		{"google/docker-registry", true, []string{"foo"}},
		{"google/docker-registry", false, []string{"foo"}},
		{"jenkins", true, []string{"foo"}},
		{"jenkins", false, []string{"foo"}},
		{"index.docker.io/v1//google/docker-registry", true, []string{"foo"}},
		{"index.docker.io/google/docker-registry", false, []string{"foo"}},
		{"docker.io/library/nginx", true, []string{"foo"}},
		{"nginx:1.27", false, []string{"foo"}},
		// divergence: the kubelet's isDefaultRegistryMatch takes any dotless first segment
		// for Docker Hub, so it gives Docker Hub's credentials to "localhost/app" and to
		// "MyHost/app" (hosts to the reference grammar); we never send them to another host.
		{"localhost/app", true, nil},
		{"localhost/app", false, nil},
		{"MyHost/app", true, nil},
		{"", true, nil},
		{"", false, nil},
	} {
		var got []Match
		if tc.raw {
			got = k.lookup(tc.image)
		} else {
			got = k.Lookup(tc.image)
		}
		if d := cmp.Diff(tc.want, users(got)); d != "" {
			t.Errorf("%q (raw %v): (-want +got)\n%s", tc.image, tc.raw, d)
		}
	}
}

// TestKubeletIsDefaultRegistryMatch is TestIsDefaultRegistryMatch, on the first segment.
func TestKubeletIsDefaultRegistryMatch(t *testing.T) {
	for image, want := range map[string]bool{
		"foo/bar":                 true,
		"docker.io/foo/bar":       true,
		"index.docker.io/foo/bar": true,
		"foo":                     true,
		"":                        false,
		"registry.tld/foo/bar":    false,
		"registry:5000/foo/bar":   false,
		"myhostdocker.io/foo/bar": false,
		"localhost/foo":           false, // divergence: the kubelet says true (see TestKubeletDockerHub)
		"Foo/bar":                 false, // divergence: the kubelet says true
	} {
		first, _, _ := strings.Cut(image, "/")
		if got := isDockerHub(first); got != want {
			t.Errorf("%q: %v, want %v", image, got, want)
		}
	}
}

// TestKubeletDockerKeyringLookup is TestDockerKeyringLookup and TestIssue3797.
func TestKubeletDockerKeyringLookup(t *testing.T) {
	k := mustKeychain(t, secretOf("s", map[string]string{"bar.example.com/pong": "grace", "bar.example.com": "ada"}))
	for _, tc := range []struct {
		image string
		want  []string
	}{
		{"bar.example.com", []string{"ada"}},                    // direct match
		{"bar.example.com/pong", []string{"grace", "ada"}},      // direct match deeper than other possible matches
		{"bar.example.com/ping", []string{"ada"}},               // no direct match, deeper path ignored
		{"bar.example.com/pongz", []string{"grace", "ada"}},     // match first part of path token
		{"bar.example.com/pong/pang", []string{"grace", "ada"}}, // match regardless of sub-path
		{"example.com", nil},                                    // no host match
		{"foo.example.com", nil},                                // no host match
	} {
		if d := cmp.Diff(tc.want, users(k.lookup(tc.image))); d != "" {
			t.Errorf("%q: (-want +got)\n%s", tc.image, d)
		}
	}
	k = mustKeychain(t, secretOf("s", map[string]string{"https://quay.io/v1/": "rex"}))
	for _, image := range []string{"quay.io", "quay.io/foo", "quay.io/foo/bar"} {
		if d := cmp.Diff([]string{"rex"}, users(k.lookup(image))); d != "" {
			t.Errorf("%q: (-want +got)\n%s", image, d)
		}
	}
}

// TestKubeletOneIndex is secrets.go's MakeDockerKeyring: every Secret goes into one
// BasicDockerKeyring, whose index is sorted over all keys, so a path key in a later Secret
// comes before a host key in an earlier one; credentials under the same key keep the order
// of the Secrets.
func TestKubeletOneIndex(t *testing.T) {
	k := mustKeychain(t,
		secretOf("first", map[string]string{"registry.example.com": "host", "*.example.com": "wild"}),
		secretOf("second", map[string]string{"registry.example.com/team-a": "team-a", "https://registry.example.com": "host2"}),
		secretOf("third", map[string]string{"registry.example.com/team-a/app": "app"}),
	)
	for _, tc := range []struct {
		image string
		want  []string
	}{
		{"registry.example.com/team-a/app", []string{"app", "team-a", "host", "host2", "wild"}},
		{"registry.example.com/team-a/other", []string{"team-a", "host", "host2", "wild"}},
		{"registry.example.com/team-b/app", []string{"host", "host2", "wild"}},
		{"other.example.com/app", []string{"wild"}},
	} {
		got := k.lookup(tc.image)
		if d := cmp.Diff(tc.want, users(got)); d != "" {
			t.Errorf("%q: (-want +got)\n%s", tc.image, d)
		}
		auth, _ := k.resolve(strings.Cut(tc.image, "/"))
		cfg, err := auth.Authorization()
		if err != nil || cfg.Username != tc.want[0] {
			t.Errorf("%q: Resolve gave %q (%v), want %q", tc.image, cfg.Username, err, tc.want[0])
		}
	}
	// Lookup names the Secret and the key as written.
	got := k.Lookup("registry.example.com/team-a/x:1")
	if got[0].Secret != "ns/second" || got[0].Key != "registry.example.com/team-a" || got[2].Key != "https://registry.example.com" && got[3].Key != "https://registry.example.com" {
		t.Errorf("got %+v", got)
	}
}

// TestKubeletEmptyEntry: the kubelet keeps an entry without credentials and tries it (an
// anonymous pull) in its place; Lookup returns it there too. Resolve, which has one answer,
// gives the first entry that carries credentials, and an empty entry still stops the Docker
// Hub fallback, as it does in the kubelet.
func TestKubeletEmptyEntry(t *testing.T) {
	s := corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "mixed"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{
			"registry.example.com/team":{"email":"nobody@example.com"},
			"registry.example.com":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("host:pw-host")) + `"},
			"docker.io/library":{},
			"https://index.docker.io/v1/":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("hub:pw-hub")) + `"}}}`)},
	}
	k := mustKeychain(t, s)
	got := k.Lookup("registry.example.com/team/app")
	if len(got) != 2 || !got[0].Credentials.Anonymous() || got[1].Credentials.Username != "host" {
		t.Fatalf("Lookup: %+v", got)
	}
	auth, _ := k.resolve("registry.example.com", "team/app", true)
	if cfg, _ := auth.Authorization(); cfg.Username != "host" {
		t.Fatalf("resolve: %+v", cfg)
	}
	// "docker.io/library" (empty) matches docker.io/library/nginx, so the index.docker.io
	// fallback does not apply: anonymous.
	if auth, matched := k.resolve("docker.io", "library/nginx", true); auth != nil || !matched {
		t.Fatalf("resolve nginx: %v %v", auth, matched)
	}
	if auth, _ := k.resolve("docker.io", "someone/app", true); auth == nil {
		t.Fatal("resolve someone/app: want the Docker Hub credentials")
	}
}

// TestKubeletConfigEntryDecode is config_test.go's TestDockerConfigEntryJSONDecode and
// TestDecodeDockerConfigFieldAuth, through NewKeychain (a Secret that does not decode fails
// the kubelet's MakeDockerKeyring, and fails NewKeychain).
func TestKubeletConfigEntryDecode(t *testing.T) {
	for _, tc := range []struct {
		entry      string
		user, pass string
		fail       bool
	}{
		{`{"username": "foo", "password": "bar", "email": "foo@example.com"}`, "foo", "bar", false},
		{`{"auth": "Zm9vOmJhcg==", "email": "foo@example.com"}`, "foo", "bar", false},
		{`{"auth": "Zm9vOmJhcg", "email": "foo@example.com"}`, "foo", "bar", false}, // unpadded
		{`{"username": "foo", "password": "bar", "auth": "cGluZzpwb25n", "email": "foo@example.com"}`, "ping", "pong", false},
		{`{"auth": "pants", "email": "foo@example.com"}`, "", "", true},
		{`{"auth": "cGFudHM="}`, "", "", true}, // no colon
		{`{"email": false}`, "", "", true},
		// divergence: the kubelet takes these; dockerconfig refuses a username basic auth
		// cannot carry (RFC 7617) and an empty one (docker refuses it too).
		{`{"username": "a:b", "password": "x"}`, "", "", true},
		{`{"auth": "OnB3"}`, "", "", true}, // ":pw"
	} {
		s := corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s"},
			Type:       corev1.SecretTypeDockercfg,
			Data:       map[string][]byte{corev1.DockerConfigKey: []byte(`{"http://foo.example.com":` + tc.entry + `}`)},
		}
		k, err := NewKeychain([]corev1.Secret{s})
		if tc.fail {
			if !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), "ns/s") {
				t.Errorf("%s: got %v, want an error naming the Secret", tc.entry, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.entry, err)
		}
		got := k.Lookup("foo.example.com/app")
		if len(got) != 1 || got[0].Credentials.Username != tc.user || got[0].Credentials.Password.Reveal() != tc.pass {
			t.Errorf("%s: got %+v", tc.entry, got)
		}
	}
}

// TestKubeletIdentityToken: divergence: the kubelet's DockerConfigEntry has no
// identitytoken, so it tries such an entry as an anonymous pull; dockerconfig keeps the
// token, and Resolve gives it (go-containerregistry exchanges it at the registry).
func TestKubeletIdentityToken(t *testing.T) {
	k := mustKeychain(t, corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "tok"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"registry.example.com":{"identitytoken":"refresh-token"}}}`)},
	})
	auth, _ := k.resolve("registry.example.com", "app", true)
	if auth == nil {
		t.Fatal("no credentials")
	}
	if cfg, err := auth.Authorization(); err != nil || cfg.IdentityToken != "refresh-token" {
		t.Fatalf("got %v", err)
	}
}

// TestSplitHostPort: splitHostPort agrees with net.SplitHostPort (the kubelet's SplitURL)
// on every shape of host the URL parser lets through.
func TestSplitHostPort(t *testing.T) {
	for _, s := range []string{"", "host", "host:5000", "host:", ":5000", "a:b:c", "[::1]", "[::1]:5000",
		"[::1]5000", "[::1]:5000:1", "[::1", "::1]:5", "h[st:5", "host:5]", "[fe80::1%25en0]:80", "[]:1", "[a]:"} {
		wh, wp, err := net.SplitHostPort(s)
		if err != nil {
			wh, wp = s, ""
		}
		if h, p := splitHostPort(s); h != wh || p != wp {
			t.Errorf("%q: (%q, %q), want (%q, %q)", s, h, p, wh, wp)
		}
	}
}

func FuzzSplitHostPort(f *testing.F) {
	for _, s := range []string{"host:5000", "[::1]:5000", "a:b", "[x]y:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		wh, wp, err := net.SplitHostPort(s)
		if err != nil {
			wh, wp = s, ""
		}
		if h, p := splitHostPort(s); h != wh || p != wp {
			t.Errorf("%q: (%q, %q), want (%q, %q)", s, h, p, wh, wp)
		}
	})
}
