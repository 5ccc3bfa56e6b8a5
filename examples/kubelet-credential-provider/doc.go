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
//	 "cacheKeyType":"Registry","auth":{"ghcr.io/myorg":{"username":"myorg","password":"..."}}}
//
// Rules:
//   - The registry is chosen with regcred's Keychain (most specific server first; Docker Hub
//     aliases; path-scoped and wildcard servers). The auth key is that registry's server
//     pattern ("ghcr.io/myorg", "*.azurecr.io", "docker.io"), which the kubelet matches with
//     the same rules.
//   - cacheKeyType is Registry, or Image for a path-scoped registry (its credentials do not
//     serve the whole host).
//   - Credentials that expire get cacheDuration = three quarters of their remaining
//     lifetime, so the kubelet asks again before they stop working; others leave it unset
//     (the kubelet's defaultCacheDuration applies).
//   - An image no registry matches (or a public registry) gets an empty auth and exit 0: the
//     kubelet then pulls anonymously, as its documentation asks of plugins.
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
