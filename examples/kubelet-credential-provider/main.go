package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	credv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"

	"github.com/regcred/regcred/providers"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/keychain"
	"github.com/regcred/regcred/registryfile"
)

// APIVersion is the kubelet credential provider API this plugin speaks.
const APIVersion = "credentialprovider.kubelet.k8s.io/v1"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubelet-credential-provider: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("kubelet-credential-provider", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	config := fs.String("config", "", "registries file (default $REGCRED_CONFIG, else "+registryfile.DefaultPath()+")")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("flags: %w", err)
	}
	req, err := decodeRequest(stdin)
	if err != nil {
		return err
	}
	regs, err := registryfile.Load(registryfile.Path(*config))
	if err != nil {
		return err
	}
	resp, err := respond(ctx, req, regs, providers.Factory(), time.Now)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(resp)
}

// decodeRequest reads one CredentialProviderRequest and checks its type and image.
func decodeRequest(r io.Reader) (*credv1.CredentialProviderRequest, error) {
	var req credv1.CredentialProviderRequest
	dec := json.NewDecoder(io.LimitReader(r, 1<<20))
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("read CredentialProviderRequest from stdin: %w", err)
	}
	if req.APIVersion != APIVersion || req.Kind != "CredentialProviderRequest" {
		return nil, fmt.Errorf("request is apiVersion %q kind %q; this plugin speaks %s CredentialProviderRequest (set apiVersion in the kubelet's CredentialProviderConfig)", req.APIVersion, req.Kind, APIVersion)
	}
	if req.Image == "" {
		return nil, errors.New("request has no image")
	}
	return &req, nil
}

// respond answers req from regs. The answer's cacheKeyType and auth key say the same
// scope (see cacheScope), so the kubelet's cache never serves it to an image it was not
// meant for.
func respond(ctx context.Context, req *credv1.CredentialProviderRequest, regs []registry.Registry, factory registry.ProviderFactory, now func() time.Time) (*credv1.CredentialProviderResponse, error) {
	kc, err := keychain.New(regs, keychain.WithProviderFactory(lenient(factory)))
	if err != nil {
		return nil, err
	}
	creds, reg, err := kc.Credentials(ctx, req.Image)
	if err != nil {
		return nil, err
	}
	scope, key := cacheScope(kc, req.Image)
	resp := &credv1.CredentialProviderResponse{
		TypeMeta:     metav1.TypeMeta{APIVersion: APIVersion, Kind: "CredentialProviderResponse"},
		CacheKeyType: scope,
	}
	if reg.ID == "" && reg.Name == "" || creds.Anonymous() {
		return resp, nil // no registry (or a public one): pull anonymously
	}
	if creds.Password == "" && (creds.RegistryToken != "" || creds.IdentityToken != "") {
		return nil, fmt.Errorf("registry %q: its credentials are a token the kubelet's plugin API cannot carry (it takes a username and password only)", reg.Name)
	}
	resp.Auth = map[string]credv1.AuthConfig{key: {Username: creds.Username, Password: creds.Password.Reveal()}}
	if !creds.ExpiresAt.IsZero() {
		left := creds.ExpiresAt.Sub(now())
		if left <= 0 {
			return nil, fmt.Errorf("registry %q: its credentials expired at %s", reg.Name, creds.ExpiresAt.UTC().Format(time.RFC3339))
		}
		// The kubelet may reuse the answer until the provider would fetch anew (the
		// refreshing cache's rule, registry.RefreshAt), never past the expiry.
		due := left
		if p, ok := kc.Provider(reg.ID); ok {
			due = min(registry.RefreshAt(p, creds).Sub(now()), left)
		}
		resp.CacheDuration = &metav1.Duration{Duration: max(due, 0).Truncate(time.Second)}
	}
	return resp, nil
}

// cacheScope decides how far the kubelet may reuse the answer for image, and the auth key
// that covers exactly that far.
//
// The kubelet (pkg/credentialprovider/plugin) caches a response under the image, under the
// image's registry (the image up to its first "/") or globally, as cacheKeyType says, and
// before running the plugin for another image it takes the first cached entry under that
// image, its registry, or the global key: the entry's auth map is then all it has for that
// image, and the keyring matches the image against its keys. So:
//
//   - Registry, with the registry (host[:port] as the image writes it) as the key, when
//     every image of that registry gets the same answer: no path-scoped saved registry
//     applies to the host. This covers an anonymous answer too (nothing saved for the host).
//   - Image, with the image's repository as the key, otherwise: a host with a path-scoped
//     registry answers per path ("registry.example.com/team-a" and "/team-b", or one
//     path-scoped registry and an anonymous rest), and an answer for one path must not be
//     served, nor an empty one, to another path.
//   - Never Global.
//
// The key is the cache scope itself, not the registry's server pattern, so the kubelet's
// keyring, whose rules differ from regcred's (string path prefixes, globs), matches it to
// exactly the images of that scope.
func cacheScope(kc *keychain.Keychain, image string) (credv1.PluginCacheKeyType, string) {
	repo := image
	if i := strings.IndexByte(repo, '@'); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndexByte(repo, ':'); i > strings.LastIndexByte(repo, '/') {
		repo = repo[:i]
	}
	first, _, hasPath := strings.Cut(repo, "/")
	if !hasPath || !namesHost(first) {
		// A short Docker Hub name ("nginx", "user/app"): the kubelet normalizes images
		// before it asks, so this only comes from other callers; keep it to the image.
		return credv1.ImagePluginCacheKeyType, repo
	}
	for _, r := range kc.Registries() {
		srv, err := r.ServerInfo()
		if err != nil || srv.Path == "" {
			continue
		}
		// Does this path-scoped registry, or a deeper one, apply on the image's host?
		if m, ok := kc.Match(first + "/" + srv.Path + "/x"); ok {
			if ms, err := m.ServerInfo(); err == nil && ms.Path != "" {
				return credv1.ImagePluginCacheKeyType, repo
			}
		}
	}
	return credv1.RegistryPluginCacheKeyType, first
}

// namesHost reports whether the first segment of an image is a registry host to the
// reference grammar: it has a dot or a colon, is "localhost", or has an uppercase letter.
func namesHost(first string) bool {
	return strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first
}

// lenient wraps a factory so a record whose provider cannot be made (a Kubernetes token
// registry without a cluster client on the node) fails only the images it serves.
func lenient(f registry.ProviderFactory) registry.ProviderFactory {
	return func(r registry.Registry) (registry.Provider, error) {
		p, err := f(r)
		if err != nil {
			return registry.ProviderFunc(func(context.Context) (registry.Credentials, error) { return registry.Credentials{}, err }), nil
		}
		return p, nil
	}
}
