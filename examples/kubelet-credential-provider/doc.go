// Command kubelet-credential-provider is a kubelet image credential provider plugin
// (credentialprovider.kubelet.k8s.io/v1) backed by regcred's registries file, so nodes pull
// private images without any Secret.
//
// The kubelet runs it once per image that matches the plugin's matchImages, writes a
// CredentialProviderRequest to stdin and reads a CredentialProviderResponse from stdout:
//
//	{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"ghcr.io/myorg/app:1"}
//
//	{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1",
//	 "cacheKeyType":"Image","auth":{"ghcr.io/myorg/app":{"username":"myorg","password":"..."}}}
//
// Rules:
//   - The registry is chosen with regcred's Keychain (most specific server first; Docker Hub
//     aliases; path-scoped and wildcard servers, paths on whole segments).
//   - The kubelet caches an answer under the image, the image's registry (the image up to
//     its first "/") or globally, as cacheKeyType says, and serves a cached answer to every
//     image under that key without asking again. So the answer's scope is decided per host:
//     cacheKeyType Registry, with the registry ("ghcr.io", "registry.example.com:5000", as
//     the image writes it) as the auth key, when no path-scoped saved registry applies to
//     the host, so every image of it gets the same answer; else cacheKeyType Image, with
//     the image's repository ("ghcr.io/myorg/app") as the auth key, so the credentials of
//     one path, or an empty answer, are never served to another path of the same host (two
//     registries saved for registry.example.com/team-a and /team-b, or one path-scoped
//     registry and an anonymous rest of the host). Never Global. The auth key is the cache
//     scope itself, not the registry's server pattern, so the kubelet's keyring (string
//     path prefixes, globs) matches it to exactly the images of that scope.
//   - A change to the registries file reaches images already cached when their entry
//     expires (cacheDuration, else the kubelet's defaultCacheDuration).
//   - Credentials that expire get cacheDuration = the time until their provider would
//     fetch anew (registry.RefreshAt: the refreshing cache's one rule, 0.8 of the lifetime
//     by default), so the kubelet asks again before they stop working; others leave it unset
//     (the kubelet's defaultCacheDuration applies).
//   - An image no registry matches (or a public registry) gets an empty auth and exit 0: the
//     kubelet then pulls anonymously, as its documentation asks of plugins. Its
//     cacheKeyType follows the rule above.
//   - The kubelet cannot match an IPv6 literal without a port ("[::1]/app"): its keyring
//     reads "[::1]" as a glob. Give such a registry a port.
//   - A malformed request, another apiVersion or kind, an unreadable registries file, or a
//     provider that fails is an error on stderr (no secret in it) and exit 1.
//
// Configuration, in kubelet's CredentialProviderConfig:
//
//	apiVersion: kubelet.config.k8s.io/v1
//	kind: CredentialProviderConfig
//	providers:
//	  - name: kubelet-credential-provider
//	    apiVersion: credentialprovider.kubelet.k8s.io/v1
//	    matchImages: ["ghcr.io", "*.azurecr.io", "registry.example.com:5000"]
//	    defaultCacheDuration: 12h
//	    args: ["--config=/etc/regcred/registries.yaml"]
//
// The registries file is --config, else $REGCRED_CONFIG, else the default path of package
// registryfile. Secret values in it may be ${ENV} (set through the provider's env list) or
// file:/path.
package main
