// Package kubesatest provides a client-go fake clientset whose "create
// serviceaccounts/token" subresource behaves like the TokenRequest API (NotFound for a
// ServiceAccount that does not exist, Invalid below 600 s, a JWT-shaped token with aud,
// sub, iat and exp, status.expirationTimestamp), for tests of regcred's kubesa provider
// and of adapters that refresh pull Secrets from ServiceAccount tokens.
//
// Rules: test support only; issued tokens contain TokenMarker so tests can assert that no
// token leaks; the clock is Clientset.Now. The real API server is exercised by the kube
// package's integration tests (TokenRequest plus TokenReview).
package kubesatest
