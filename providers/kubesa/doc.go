// Package kubesa is the Kubernetes ServiceAccount token provider: for a registry that
// authenticates with Kubernetes tokens (seed 004, Deckhouse's payload registry), it asks
// the TokenRequest API (client-go CoreV1().ServiceAccounts(ns).CreateToken) for a token of
// the ServiceAccount namespace/name with the registry's audience and a lifetime (default
// 24 hours, at least 10 minutes).
//
// Rules:
//   - The client is injected (kubernetes.Interface): in-cluster config, a kubeconfig, or
//     client-go's fake. The provider never builds one.
//   - Credentials form (decided from seed 004 and the payload registry's docs: "Username:
//     token, Password: Kubernetes bearer token"): Basic, the default, is username "token"
//     (WithUsername changes it) with the token as the password — what a
//     kubernetes.io/dockerconfigjson Secret holds and what `docker login` sends. Bearer
//     puts the token in Credentials.RegistryToken instead, for registries that take it as
//     a bearer token directly.
//   - Expiry is status.expirationTimestamp as the API server answers it (it may shorten the
//     requested lifetime); wrap the provider with providers/cache, which refreshes at 80%
//     of the life (seed 004: "updated some time before the expiration").
//   - A deleted or missing ServiceAccount is *registry.Error wrapping registry.ErrNotFound
//     naming namespace/name and how to create it; RBAC refusals are ErrForbidden (the
//     caller needs create on serviceaccounts/token); API server trouble is ErrUnavailable.
//     Tokens never appear in errors.
//   - Tested against the real kube-apiserver of internal/testenv (TokenRequest, then
//     TokenReview accepts the token for the audience and refuses it for another; RBAC
//     refusal; a deleted ServiceAccount), and for faults against client-go's fake and an
//     httptest API server speaking the TokenRequest and Status JSON.
//   - kubesatest holds a fake clientset whose "create serviceaccounts/token" behaves like
//     the real API, for this package's tests and for adapters (kube) that need tokens.
package kubesa
