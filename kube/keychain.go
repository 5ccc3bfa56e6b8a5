package kube

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"

	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/registry"
)

// Keychain answers which credentials the kubelet would use for an image from a pod's pull
// Secrets. It reads kubernetes.io/dockerconfigjson and legacy kubernetes.io/dockercfg
// Secrets into ONE index, as the kubelet's keyring (pkg/credentialprovider) does, and
// matches with the kubelet's rules:
//
//   - a key is [http[s]://]host[:port][/path]; a leading "/v1/" or "/v2/" of the path is
//     dropped, so "https://index.docker.io/v1/" is the key "index.docker.io";
//   - the port must be equal: a key without a port matches only images without one;
//   - the host must have as many dot-separated labels as the image's, each matching as a
//     glob ("*.example.com", "registry.*.io", "app*.example.com"; "*" never spans a dot);
//     hosts compare case-sensitively, as the kubelet compares them;
//   - the key's path must be a prefix of the image's path as a string ("host/team"
//     matches "host/team/app" and also "host/teamx/app");
//   - every matching key is tried, in reverse lexical order of the keys of all Secrets
//     together (so a path key in a later Secret comes before a host key in an earlier
//     one); credentials under the same key come in the order of the Secrets;
//   - when no key matches a Docker Hub image, the credentials under "index.docker.io"
//     apply.
//
// The package documentation lists where it differs from the kubelet, and why.
//
// Lookups use an index built once in NewKeychain (by host and port, by the literal labels
// of wildcard hosts, by path length), so Resolve costs a few map lookups whatever the number
// of Secrets, and allocates nothing. A Keychain is read-only after NewKeychain and safe for
// concurrent use. It implements authn.Keychain and authn.ContextKeychain.
type Keychain struct {
	keys    []*keyringKey            // every distinct key, in the order the kubelet tries them
	exact   map[hostPort][]*hostKeys // hosts without glob characters
	globs   map[string][]*hostKeys   // hosts with a glob label, by the literal labels after the last one
	globSfx uint64                   // bit n set: some key of globs has n labels (n capped at 63)
	hub     *keyringKey              // the key "index.docker.io", for the Docker Hub fallback
	entries int
}

// keyringKey is one key of the kubelet's index: host[:port][/path] after the kubelet's
// normalization, with every credential stored under it.
type keyringKey struct {
	key     string
	rank    int     // position in Keychain.keys
	matches []Match // Secrets in order; within a Secret, raw keys in lexical order
	auth    authn.Authenticator
}

// hostKeys holds the keys of one host[:port] as written (after url.Parse).
type hostKeys struct {
	port    string                 // the port, for glob hosts
	labels  []string               // the host's labels, for glob hosts
	kinds   []labelKind            // per label: literal, "*" or another glob
	root    *keyringKey            // the key without a path
	paths   map[string]*keyringKey // keys with a path, by the path without its leading "/"
	lengths []int                  // the distinct lengths of paths' keys, longest first
}

type hostPort struct{ host, port string }

// labelKind says how a label of a glob host matches: as a literal, as "*" (any label), or
// through path.Match.
type labelKind uint8

const (
	literalLabel labelKind = iota
	starLabel
	globLabel
)

var (
	_ authn.Keychain        = (*Keychain)(nil)
	_ authn.ContextKeychain = (*Keychain)(nil)
)

// NewKeychain reads the pull Secrets, in the order the pod lists them. A Secret of another
// type, or one whose content does not decode, is an error naming it (the kubelet fails the
// pull on a Secret that does not decode too). A key that does not parse as a URL is skipped,
// as the kubelet skips it.
func NewKeychain(secrets []corev1.Secret) (*Keychain, error) {
	byKey := map[string]*keyringKey{}
	k := &Keychain{}
	for _, s := range secrets {
		var raw []byte
		switch s.Type {
		case corev1.SecretTypeDockerConfigJson:
			raw = s.Data[corev1.DockerConfigJsonKey]
		case corev1.SecretTypeDockercfg:
			raw = s.Data[corev1.DockerConfigKey]
		default:
			return nil, fmt.Errorf("secret %s/%s: %w: type %q is not a pull secret (want %s or %s)", s.Namespace, s.Name, registry.ErrInvalid, s.Type, corev1.SecretTypeDockerConfigJson, corev1.SecretTypeDockercfg)
		}
		cfg, err := dockerconfig.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("secret %s/%s: %w", s.Namespace, s.Name, err)
		}
		for _, rawKey := range cfg.Keys() {
			key, ok := kubeletKey(rawKey)
			if !ok {
				continue
			}
			kk := byKey[key]
			if kk == nil {
				kk = &keyringKey{key: key}
				byKey[key] = kk
				k.keys = append(k.keys, kk)
			}
			creds := cfg.Auths[rawKey].Credentials()
			kk.matches = append(kk.matches, Match{Key: rawKey, Secret: s.Namespace + "/" + s.Name, Credentials: creds})
			if kk.auth == nil && !creds.Anonymous() {
				kk.auth = creds.Authenticator()
			}
			k.entries++
		}
	}
	slices.SortFunc(k.keys, func(a, b *keyringKey) int { return strings.Compare(b.key, a.key) })
	byHost := map[string]*hostKeys{}
	for i, kk := range k.keys {
		kk.rank = i
		hostStr, p, _ := strings.Cut(kk.key, "/")
		if kk.key == dockerHubKey {
			k.hub = kk
		}
		hk := byHost[hostStr]
		if hk == nil {
			hk = &hostKeys{}
			byHost[hostStr] = hk
			k.indexHost(hostStr, hk)
		}
		if !strings.Contains(kk.key, "/") {
			hk.root = kk
			continue
		}
		if hk.paths == nil {
			hk.paths = map[string]*keyringKey{}
		}
		hk.paths[p] = kk
		if !slices.Contains(hk.lengths, len(p)) {
			hk.lengths = append(hk.lengths, len(p))
		}
	}
	for _, hk := range byHost {
		slices.SortFunc(hk.lengths, func(a, b int) int { return b - a })
	}
	return k, nil
}

// dockerHubKey is the key the kubelet falls back to for Docker Hub images.
const dockerHubKey = "index.docker.io"

// kubeletKey normalizes a docker config key as the kubelet's BasicDockerKeyring.Add does:
// "https://" is added unless the key has an http(s) scheme, the URL is parsed, a path that
// starts with "/v1/" or "/v2/" loses that prefix, and the key is the URL's host[:port]
// followed by the path unless the path is empty or "/". ok is false when the URL does not
// parse, and for keys without a host (no image can match them).
func kubeletKey(raw string) (key string, ok bool) {
	value := raw
	if !strings.HasPrefix(value, "https://") && !strings.HasPrefix(value, "http://") {
		value = "https://" + value
	}
	u, err := url.Parse(value)
	if err != nil || u.Host == "" {
		return "", false
	}
	p := u.Path
	if strings.HasPrefix(p, "/v2/") || strings.HasPrefix(p, "/v1/") {
		p = p[3:]
	}
	if p == "" || p == "/" {
		return u.Host, true
	}
	return u.Host + p, true
}

// indexHost files hk under its host and port: literal hosts by equality, glob hosts by port,
// label count and the literal labels after the last glob label.
func (k *Keychain) indexHost(hostStr string, hk *hostKeys) {
	host, port := splitHostPort(hostStr)
	if !strings.ContainsAny(host, `*?[\`) {
		if k.exact == nil {
			k.exact = map[hostPort][]*hostKeys{}
		}
		hp := hostPort{host, port}
		k.exact[hp] = append(k.exact[hp], hk)
		return
	}
	hk.labels = strings.Split(host, ".")
	hk.kinds = make([]labelKind, len(hk.labels))
	last := 0
	for i, l := range hk.labels {
		switch {
		case l == "*":
			hk.kinds[i], last = starLabel, i
		case strings.ContainsAny(l, `*?[\`):
			hk.kinds[i], last = globLabel, i
		}
	}
	suffix := strings.Join(hk.labels[last+1:], ".")
	hk.port = port
	if k.globs == nil {
		k.globs = map[string][]*hostKeys{}
	}
	k.globs[suffix] = append(k.globs[suffix], hk)
	k.globSfx |= 1 << min(len(hk.labels)-last-1, 63)
}

// splitHostPort is net.SplitHostPort without the error value (which allocates): ok false
// is the kubelet's fallback of the whole string as the host and no port.
func splitHostPort(hostport string) (host, port string) {
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 {
		return hostport, ""
	}
	j, k := 0, 0
	if hostport[0] == '[' {
		end := strings.IndexByte(hostport, ']')
		if end < 0 || end+1 != i {
			return hostport, "" // missing ']', missing port, or too many colons
		}
		host = hostport[1:end]
		j, k = 1, end+1
	} else {
		host = hostport[:i]
		if strings.IndexByte(host, ':') >= 0 {
			return hostport, "" // too many colons
		}
	}
	if strings.IndexByte(hostport[j:], '[') >= 0 || strings.IndexByte(hostport[k:], ']') >= 0 {
		return hostport, ""
	}
	return host, hostport[i+1:]
}

// matches reports whether the glob host's labels match host, label by label.
func (hk *hostKeys) matches(host string) bool {
	for i, pat := range hk.labels {
		label, rest, found := strings.Cut(host, ".")
		if found == (i == len(hk.labels)-1) {
			return false // the label counts differ
		}
		switch hk.kinds[i] {
		case literalLabel:
			if pat != label {
				return false
			}
		case globLabel:
			if ok, err := path.Match(pat, label); err != nil || !ok {
				return false
			}
		}
		host = rest
	}
	return true
}

// first returns the first key of hk the kubelet tries for repo that carries credentials
// (longest path first, then the host key), and whether any key of hk matches at all.
func (hk *hostKeys) first(repo string, hasRepo bool) (best *keyringKey, matched bool) {
	if hasRepo {
		for _, n := range hk.lengths {
			if n > len(repo) {
				continue
			}
			if kk := hk.paths[repo[:n]]; kk != nil {
				matched = true
				if kk.auth != nil {
					return kk, true
				}
			}
		}
	}
	if hk.root != nil {
		matched = true
		if hk.root.auth != nil {
			return hk.root, true
		}
	}
	return nil, matched
}

// appendAll appends every key of hk that matches repo.
func (hk *hostKeys) appendAll(out []*keyringKey, repo string, hasRepo bool) []*keyringKey {
	if hasRepo {
		for _, n := range hk.lengths {
			if n <= len(repo) {
				if kk := hk.paths[repo[:n]]; kk != nil {
					out = append(out, kk)
				}
			}
		}
	}
	if hk.root != nil {
		out = append(out, hk.root)
	}
	return out
}

// forHosts calls fn with every hostKeys whose host and port match hostStr.
func (k *Keychain) forHosts(hostStr string, fn func(*hostKeys)) {
	host, port := splitHostPort(hostStr)
	for _, hk := range k.exact[hostPort{host, port}] {
		fn(hk)
	}
	if len(k.globs) == 0 {
		return
	}
	labels := strings.Count(host, ".") + 1
	visit := func(suffix string) {
		for _, hk := range k.globs[suffix] {
			if hk.port == port && len(hk.labels) == labels && hk.matches(host) {
				fn(hk)
			}
		}
	}
	if k.globSfx&1 != 0 {
		visit("")
	}
	n := 0 // labels of host[i+1:]
	for i := len(host) - 1; i > 0; i-- {
		if host[i] == '.' {
			n++
			if n < labels && k.globSfx&(1<<min(n, 63)) != 0 {
				visit(host[i+1:])
			}
		}
	}
}

// resolve is the kubelet's BasicDockerKeyring.Lookup for the image host/repo (a normalized
// name, no tag or digest), reduced to its first credentials: the authenticator of the first
// key tried that has credentials, or nil. matched reports whether any key matched.
func (k *Keychain) resolve(hostStr, repo string, hasRepo bool) (auth authn.Authenticator, matched bool) {
	if hostStr == "" {
		return nil, false
	}
	var best *keyringKey
	k.forHosts(hostStr, func(hk *hostKeys) {
		kk, m := hk.first(repo, hasRepo)
		matched = matched || m
		if kk != nil && (best == nil || kk.rank < best.rank) {
			best = kk
		}
	})
	if best != nil {
		return best.auth, true
	}
	if !matched && k.hub != nil && isDockerHub(hostStr) {
		return k.hub.auth, true
	}
	return nil, matched
}

// lookup is the kubelet's BasicDockerKeyring.Lookup for image, a normalized name without tag
// or digest ("docker.io/library/nginx", "registry.example.com:5000/team/app").
func (k *Keychain) lookup(image string) []Match {
	if image == "" {
		return nil
	}
	hostStr, repo, hasRepo := strings.Cut(image, "/")
	var keys []*keyringKey
	k.forHosts(hostStr, func(hk *hostKeys) { keys = hk.appendAll(keys, repo, hasRepo) })
	if len(keys) == 0 {
		if k.hub != nil && isDockerHub(hostStr) {
			return slices.Clone(k.hub.matches)
		}
		return nil
	}
	slices.SortFunc(keys, func(a, b *keyringKey) int { return a.rank - b.rank })
	var out []Match
	for _, kk := range keys {
		out = append(out, kk.matches...)
	}
	return out
}

// isDockerHub is the kubelet's isDefaultRegistryMatch on the first segment of a normalized
// image: docker.io, index.docker.io, or a segment that names no registry host. Unlike the
// kubelet, a dotless segment that the reference grammar reads as a host ("localhost", or
// one with an uppercase letter) is not Docker Hub, or Docker Hub's credentials would go to
// that host.
func isDockerHub(first string) bool {
	switch {
	case first == "docker.io" || first == "index.docker.io":
		return true
	case first == "" || first == "localhost" || strings.ContainsAny(first, ".:"):
		return false
	}
	for i := 0; i < len(first); i++ {
		if 'A' <= first[i] && first[i] <= 'Z' {
			return false
		}
	}
	return true
}

// GlobHost reports whether host matches pattern with the kubelet's rule: the same number of
// dot-separated parts, each matched as a glob (path.Match), so "*" matches within one part.
func GlobHost(pattern, host string) bool {
	pp, hp := strings.Split(pattern, "."), strings.Split(host, ".")
	if len(pp) != len(hp) {
		return false
	}
	for i := range pp {
		ok, err := path.Match(pp[i], hp[i])
		if err != nil || !ok {
			return false
		}
	}
	return true
}

// Match is one pull secret entry that applies to an image.
type Match struct {
	Key         string // the docker config key, as written in the Secret
	Secret      string // namespace/name of the Secret
	Credentials registry.Credentials
}

// LogValue keeps slog's JSON handler from encoding the credentials field by field.
func (m Match) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key", m.Key), slog.String("secret", m.Secret), slog.Any("credentials", m.Credentials))
}

// Lookup returns every entry that applies to image, in the order the kubelet tries them.
// image is normalized first as the kubelet's image puller does ("nginx:1" is
// docker.io/library/nginx; a tag or digest is dropped); an image that does not parse as a
// reference, or an empty one, matches nothing.
func (k *Keychain) Lookup(image string) []Match {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return nil
	}
	return k.lookup(named.Name())
}

// Resolve implements authn.Keychain: the credentials of the first entry the kubelet would
// try that carries any, else authn.Anonymous. It allocates nothing.
func (k *Keychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	host := res.RegistryStr()
	if host == name.DefaultRegistry {
		host = "docker.io" // go-containerregistry's name for Docker Hub; the kubelet's is docker.io
	}
	var auth authn.Authenticator
	if r, ok := res.(interface{ RepositoryStr() string }); ok {
		auth, _ = k.resolve(host, r.RepositoryStr(), true)
	} else {
		auth, _ = k.resolve(host, "", false)
	}
	if auth == nil {
		return authn.Anonymous, nil
	}
	return auth, nil
}

// ResolveContext implements authn.ContextKeychain; the lookup itself does not block.
func (k *Keychain) ResolveContext(_ context.Context, res authn.Resource) (authn.Authenticator, error) {
	return k.Resolve(res)
}

// String summarizes the keychain; it never prints a credential.
func (k *Keychain) String() string {
	return fmt.Sprintf("kube.Keychain{%d keys, %d entries}", len(k.keys), k.entries)
}

// Format prints String under every verb, so no credential leaks through %+v or %#v.
func (k *Keychain) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// LogValue keeps slog from encoding the keychain's internals.
func (k *Keychain) LogValue() slog.Value { return slog.StringValue(k.String()) }
