package kube

import (
	"context"
	"fmt"
	"net"
	"path"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"

	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/registry"
)

// Keychain answers which credentials the kubelet would use for an image from a pod's pull
// Secrets: it reads kubernetes.io/dockerconfigjson and legacy kubernetes.io/dockercfg
// Secrets and matches like the kubelet's keyring:
//
//   - a key is host[:port][/path], with or without scheme; Docker Hub's keys
//     ("https://index.docker.io/v1/", "index.docker.io", "docker.io") all mean docker.io;
//   - the host must have as many dot-separated parts as the image's, each matching as a
//     glob ("*.example.com", "registry.*.io", "app*.example.com"; one "*" never spans a dot);
//   - when the key has a port the image's must be equal; when it has none, any port goes;
//   - the key's path must be a prefix of the image's repository path, on whole segments;
//   - among matches, keys in reverse lexical order (longer before shorter with a common
//     prefix, literal before wildcard), Secrets in the order given, as the kubelet tries them.
//
// It implements authn.Keychain (the first match) and is read-only after NewKeychain, so it is
// safe for concurrent use.
type Keychain struct {
	entries []keyEntry
}

type keyEntry struct {
	key, host, port, path string
	secret                string // namespace/name, for errors and Lookup
	creds                 registry.Credentials
}

var _ authn.Keychain = (*Keychain)(nil)

// NewKeychain reads the pull Secrets. A Secret of another type, or one whose content does
// not decode, is an error naming it.
func NewKeychain(secrets []corev1.Secret) (*Keychain, error) {
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
		keys := cfg.Keys()
		sort.Sort(sort.Reverse(sort.StringSlice(keys)))
		for _, key := range keys {
			e := cfg.Auths[key]
			if e.Empty() {
				continue
			}
			host, port, p := splitKey(key)
			if host == "" {
				continue
			}
			k.entries = append(k.entries, keyEntry{key: key, host: host, port: port, path: p, secret: s.Namespace + "/" + s.Name, creds: e.Credentials()})
		}
	}
	return k, nil
}

// splitKey parses a docker config key the way the kubelet does: an optional scheme, a
// host[:port] and a path; Docker Hub folds into docker.io.
func splitKey(key string) (host, port, p string) {
	s := strings.TrimSpace(key)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	hp, rest, _ := strings.Cut(s, "/")
	hp = strings.ToLower(hp)
	host, port = hp, ""
	if h, pt, err := net.SplitHostPort(hp); err == nil {
		host, port = h, pt
	}
	p = strings.Trim(rest, "/")
	switch host {
	case "index.docker.io", "registry-1.docker.io", "docker.io":
		host = "docker.io"
		if p == "v1" || p == "v2" {
			p = ""
		}
	}
	if p == "v1" || p == "v2" {
		p = ""
	}
	return host, port, p
}

// parseImage splits an image reference into host, port and repository path, with Docker
// Hub's defaults ("nginx" is docker.io/library/nginx).
func parseImage(image string) (host, port, repo string) {
	name := image
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	first, rest, found := strings.Cut(name, "/")
	if !found || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		first, rest = "docker.io", name
		if !strings.Contains(rest, "/") {
			rest = "library/" + rest
		}
	}
	// Drop a tag from the last segment.
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i:], "/") {
		rest = rest[:i]
	}
	host, port = strings.ToLower(first), ""
	if h, pt, err := net.SplitHostPort(host); err == nil {
		host, port = h, pt
	}
	if host == "index.docker.io" || host == "registry-1.docker.io" {
		host = "docker.io"
	}
	return host, port, rest
}

// matches reports whether the entry applies to the image's host, port and repository.
func (e keyEntry) matches(host, port, repo string) bool {
	if e.port != "" && e.port != port {
		return false
	}
	if !GlobHost(e.host, host) {
		return false
	}
	return e.path == "" || repo == e.path || strings.HasPrefix(repo, e.path+"/")
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

// Lookup returns every entry that applies to image, in the order the kubelet tries them.
func (k *Keychain) Lookup(image string) []Match {
	host, port, repo := parseImage(image)
	var out []Match
	for _, e := range k.entries {
		if e.matches(host, port, repo) {
			out = append(out, Match{Key: e.key, Secret: e.secret, Credentials: e.creds})
		}
	}
	return out
}

// Resolve implements authn.Keychain: the first entry that applies, else authn.Anonymous.
func (k *Keychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	image := res.String()
	if _, isRepo := res.(interface{ RepositoryStr() string }); !isRepo {
		image = res.RegistryStr() + "/"
	}
	m := k.Lookup(image)
	if len(m) == 0 {
		return authn.Anonymous, nil
	}
	return m[0].Credentials.Authenticator(), nil
}

// ResolveContext implements authn.ContextKeychain.
func (k *Keychain) ResolveContext(_ context.Context, res authn.Resource) (authn.Authenticator, error) {
	return k.Resolve(res)
}
