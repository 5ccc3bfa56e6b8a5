package kube

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

// kubeletReference is the kubelet's BasicDockerKeyring, written out the slow way it is
// written upstream (pkg/credentialprovider/keyring.go: Add, URLsMatch, Lookup): a sorted
// list of keys scanned in full for every image. The index must give the same answers.
type kubeletReference struct {
	index []string
	creds map[string][]string // key -> usernames, Secrets in order
}

func newKubeletReference(secrets [][][2]string) *kubeletReference {
	r := &kubeletReference{creds: map[string][]string{}}
	for _, s := range secrets {
		keys := slices.Clone(s)
		slices.SortFunc(keys, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
		for _, kv := range keys {
			value := kv[0]
			if !strings.HasPrefix(value, "https://") && !strings.HasPrefix(value, "http://") {
				value = "https://" + value
			}
			parsed, err := url.Parse(value)
			if err != nil {
				continue
			}
			p := parsed.Path
			if strings.HasPrefix(p, "/v2/") || strings.HasPrefix(p, "/v1/") {
				p = p[3:]
			}
			key := parsed.Host
			if len(p) > 0 && p != "/" {
				key = parsed.Host + p
			}
			if _, ok := r.creds[key]; !ok {
				r.index = append(r.index, key)
			}
			r.creds[key] = append(r.creds[key], kv[1])
		}
	}
	slices.Sort(r.index)
	slices.Reverse(r.index)
	return r
}

func refSplit(u *url.URL) ([]string, string) {
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		host, port = u.Host, ""
	}
	return strings.Split(host, "."), port
}

func refMatch(glob, target string) bool {
	g, err := url.Parse("https://" + glob)
	if err != nil {
		return false
	}
	t, err := url.Parse("https://" + target)
	if err != nil {
		return false
	}
	gp, gport := refSplit(g)
	tp, tport := refSplit(t)
	if gport != tport || len(gp) != len(tp) || !strings.HasPrefix(t.Path, g.Path) {
		return false
	}
	for i := range gp {
		if ok, err := filepath.Match(gp[i], tp[i]); err != nil || !ok {
			return false
		}
	}
	return true
}

func (r *kubeletReference) lookup(image string) []string {
	var out []string
	for _, k := range r.index {
		if refMatch(k, image) {
			out = append(out, r.creds[k]...)
		}
	}
	if len(out) > 0 {
		return out
	}
	if kubeletDefaultRegistryMatch(image) && !dotlessHost(image) {
		return r.creds["index.docker.io"]
	}
	return nil
}

// kubeletDefaultRegistryMatch is the kubelet's isDefaultRegistryMatch
// (pkg/credentialprovider/keyring.go, v1.31), as written there: the reference is kept
// independent of the code it judges.
func kubeletDefaultRegistryMatch(image string) bool {
	parts := strings.SplitN(image, "/", 2)
	if len(parts[0]) == 0 {
		return false
	}
	if len(parts) == 1 {
		return true
	}
	if parts[0] == "docker.io" || parts[0] == "index.docker.io" {
		return true
	}
	// Docker looks for either a "." or ":" in the registry name to indicate that it is
	// actually a registry address.
	return !strings.ContainsAny(parts[0], ".:")
}

// dotlessHost is regcred's documented divergence from the kubelet, stated from the
// reference grammar (distribution/reference: a first segment before a "/" is a domain
// when it holds a dot or a colon, is "localhost", or has an uppercase letter): a dotless
// segment that is a domain by that grammar names a host, never Docker Hub, so Hub's
// credentials never go to it.
func dotlessHost(image string) bool {
	first, _, hasPath := strings.Cut(image, "/")
	return hasPath && !strings.ContainsAny(first, ".:") && (first == "localhost" || strings.ToLower(first) != first)
}

// TestKeychainAgreesWithKubeletReference generates random Secrets and images from a small
// alphabet of hosts, ports, globs and paths, and compares the index with the reference.
func TestKeychainAgreesWithKubeletReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	host := func() string {
		return pick("registry.example.com", "reg.example.com", "*.example.com", "registry.*.com", "r*.example.com",
			"registry.example.*", "example.com", "*.*.com", "docker.io", "index.docker.io", "localhost", "[::1]", "reg?.example.com", "[rs]egistry.example.com")
	}
	key := func() string {
		k := pick("", "https://", "http://") + host() + pick("", "", ":5000", ":443", ":")
		return k + pick("", "", "/", "/v1/", "/v2/", "/team", "/team/", "/team/app", "/tea", "/v2/team", "/library")
	}
	image := func() string {
		h := pick("registry.example.com", "reg.example.com", "rx.example.com", "registry.other.com", "example.com",
			"docker.io", "index.docker.io", "localhost", "[::1]", "rega.example.com") + pick("", "", ":5000", ":443")
		// Always a path: the kubelet normalizes an image (parsers.ParseImageName) before its
		// keyring sees it, so a pathless one never reaches the keyring.
		return h + pick("/app", "/team", "/team/app", "/teamx/app", "/tea", "/library/nginx", "/v1/app")
	}
	hits, multi := 0, 0
	for round := range 300 {
		var secrets [][][2]string
		var objs []corev1.Secret
		for s := range 1 + rng.IntN(4) {
			m := map[string]string{}
			var kv [][2]string
			for range 1 + rng.IntN(4) {
				k, u := key(), fmt.Sprintf("u%d", rng.IntN(1000))
				if _, dup := m[k]; dup {
					continue
				}
				m[k] = u
				kv = append(kv, [2]string{k, u})
			}
			secrets = append(secrets, kv)
			objs = append(objs, secretOf(fmt.Sprintf("s%d", s), m))
		}
		ref := newKubeletReference(secrets)
		k, err := NewKeychain(objs)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			img := image()
			want := ref.lookup(img)
			if len(want) > 0 {
				hits++
			}
			if len(want) > 1 {
				multi++
			}
			var got []string
			for _, m := range k.lookup(img) {
				got = append(got, m.Credentials.Username)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("round %d, secrets %v, image %q: (-kubelet +ours)\n%s", round, secrets, img, d)
			}
			host, repo, hasRepo := strings.Cut(img, "/")
			auth, _ := k.resolve(host, repo, hasRepo)
			wantFirst := ""
			if len(want) > 0 {
				wantFirst = want[0]
			}
			gotFirst := ""
			if auth != nil {
				cfg, _ := auth.Authorization()
				gotFirst = cfg.Username
			}
			if gotFirst != wantFirst {
				t.Fatalf("round %d, secrets %v, image %q: resolve %q, want %q", round, secrets, img, gotFirst, wantFirst)
			}
		}
	}
	// The generator must exercise matches, and orderings of several matches.
	if hits < 600 || multi < 100 {
		t.Fatalf("only %d lookups of 6000 matched, %d with several matches: the generator tests too little", hits, multi)
	}
	t.Logf("%d of 6000 lookups matched, %d with several matches", hits, multi)
}
