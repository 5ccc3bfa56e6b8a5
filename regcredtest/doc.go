// Package regcredtest is the test kit for platforms that embed regcred: what a platform's
// own tests need to check its code around regcred without clouds, Docker or a cluster.
// Everything runs in the test process, on loopback, and stops when the test ends.
//
//   - Registry (NewRegistry): an OCI registry (go-containerregistry's in-memory
//     registry) over TLS with its own certificate, exported as PEM (CAPEM), as an
//     *x509.CertPool (CertPool) and as the registry.TLS a record saves (TLS). It requires
//     basic auth or bearer tokens from its own token endpoint (the distribution token
//     specification: a Bearer challenge naming realm, service and scope; GET with basic
//     auth or the OAuth2 password and refresh_token grants by POST; signed JWTs whose
//     expiry, audience and repository access are checked). It holds one small image
//     (Image, Digest), takes a rotation on its side (SetCredentials) and counts what it
//     answers (Counts: requests, 401s, token requests, manifest pulls). Record returns a
//     record of it ready for Catalog.Add; Pull pulls its image through a Keychain.
//   - ECR, ACR and Google: the token endpoints of the three clouds, speaking their real
//     wire formats and checking what they are sent (AWS SigV4 signatures against the
//     secret key; Azure AD client credentials and the ACR /oauth2/exchange; Google's
//     JWT-bearer grant with the RS256 assertion checked against the key). Each gives a
//     record (Record), the provider option that points providers at it (ProviderOption,
//     for providers.Factory) and its count of token requests (TokenRequests).
//   - NewClock: the one clock regcred accepts (clock.Clock), as a *clock.Fake that only
//     moves when the test moves it. Give the same clock to the Catalog
//     (registry.WithClock), the providers (providers.WithClock), the Registry (WithClock)
//     and the clouds (WithCloudClock), and moving it expires and refreshes tokens without
//     sleeping.
//
// Rules: every constructor takes the test's testing.TB and fails it when it cannot start;
// the credentials the fakes accept are fixed test values, never real ones; counts are
// exact, so a test can assert "one token per lifetime": Registry counts every request it
// answers, refused or not; ACR and Google count every token request; ECR counts the
// requests whose SigV4 signature verified (a wrong key never reaches the count).
package regcredtest
