// Package fakecloud holds the fake cloud token endpoints regcred's provider tests run
// against, on httptest servers, speaking the documented wire formats: AWS ECR and ECR
// Public (AWS JSON 1.1) and STS AssumeRole (query protocol) with every SigV4 signature
// verified against the secret key (VerifySigV4, an independent implementation of the
// published algorithm); Azure AD client credentials and the ACR /oauth2/exchange form post;
// Google's OAuth2 JWT-bearer grant with the assertion's RS256 signature verified against the
// service account's public key.
//
// It sits at the module root's internal/ so that the providers' tests and the exported
// test kit (regcredtest, which wraps it for platforms) share one set of fakes.
//
// Rules: test-only (it is internal); every fake starts with New*(t) and stops with the
// test; faults (Fault*) are switched on per fake; tokens it issues have recognizable
// prefixes so tests can assert that no secret leaks into an error or a log.
package fakecloud
