// Package providers wires a saved registry record to the provider of its credentials. It is
// the leaf that knows every kind; the core (registry) never imports it.
//
//	p, err := providers.For(record)                     // validated, cached when it expires
//	catalog := catalog.New(store, registry.WithProviderFactory(providers.Factory(providers.WithKubeClient(kc))))
//
// Rules:
//   - For validates the record (registry.Registry.Validate) and makes no network call.
//     Failures are *registry.Error{Op: "provider"} wrapping the *registry.FieldError that
//     names the field to fix.
//   - Static kinds (Docker Hub, GHCR, Quay, Harbor, custom, ACR without a tenant) map
//     through registry.StaticCredentials; public is registry.Anonymous. Nothing is cached.
//   - Token kinds get their provider wrapped once in providers/cache: ecr (the record's
//     server, when it names a host, must agree with the region; FIPS and public.ecr.aws
//     hosts pick those APIs), acr with a tenant, gcr/gar in access-token mode (the default;
//     WithGoogleMode(google.JSONKey) gives long-lived _json_key credentials, not cached),
//     and kubernetes ServiceAccount tokens (WithKubeClient is required).
//   - Options reach every layer: WithHTTPClient (token endpoints), WithClock and
//     WithLogger (the caches), WithCacheOptions, and per-cloud With*Options for endpoint
//     overrides in tests.
//   - Subpackages: cache (refresh early, one flight, back-off, never expired), ecr, acr,
//     google, kubesa (with kubesatest), and internal/fakecloud (the wire-format fakes).
//
// Measured (go test ./providers/...): 1,000 goroutines on an expired ECR token cause one
// GetAuthorizationToken; 48 simulated hours of 12-hour ECR tokens cost 5 calls, one per
// token, none ever served expired; a cached hit costs about 40 ns and no allocation
// (BenchmarkCachedHit in providers/cache).
package providers
