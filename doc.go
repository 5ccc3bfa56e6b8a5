// Package regcred gives a Go platform a "Container Registries" feature, done properly: a
// user saves a registry with its credentials, the platform tests it, and every deployment
// target pulls with it.
//
// The data flows left to right, with no back edges:
//
//	Registry record ──validate──▶ providers.For(record) ──▶ Provider (cached, refreshes early)
//	                                                          │
//	                                                          ▼
//	                                          Credentials{user, secret, expiresAt}
//	                                                          │
//	    ┌──────────────┬──────────────┬───────────────────────┼──────────────┐
//	    ▼              ▼              ▼                       ▼              ▼
//	 Keychain     dockerconfig       kube                  swarm          compose
//
// The packages:
//
//   - registry: the saved record (Registry) and each Kind's field schema, Credentials,
//     the Provider seam, the Keychain (image reference -> saved registry -> credentials;
//     a go-containerregistry authn.Keychain), the Catalog of saved registries over a Store,
//     the connection test with its per-step diagnosis, TLS modes and errors. It imports no
//     Kubernetes, Docker Engine or cloud SDK.
//   - providers: providers.For turns a record into its Provider: static kinds (Docker Hub,
//     GHCR, Quay, Harbor, custom, public) and the token sources under providers/ (ecr, acr,
//     google for GCR and Artifact Registry, kubesa for Kubernetes ServiceAccount tokens),
//     wrapped in providers/cache, which refreshes before expiry with one refresh in flight.
//   - dockerconfig: Docker's config.json and Kubernetes' .dockerconfigjson: decode, encode
//     deterministically, credential helpers, atomic 0600 writes.
//   - kube: pull Secrets per namespace, synced only on change, ServiceAccount patching,
//     pruning, and refresh before expiry.
//   - swarm: engine login and X-Registry-Auth for services.
//   - compose: compose file -> images -> credentials; pre-pull, or an isolated DOCKER_CONFIG.
//   - store: store.Open(ctx, dsn) for sqlite:, postgres://, file: and memory: stores;
//     store/sealed seals secret fields at rest. store/storetest is the conformance suite.
//   - controller: one reconcile loop that keeps every namespace's pull Secrets current.
//   - nodeconfig: containerd, Docker, CRI-O and k3s node configuration (mirrors, CAs).
//   - clock: the one clock with timers every part takes.
//   - regcredtest: a test kit for a platform's own tests (registry, cloud token endpoints).
//   - registryfile: the YAML registries file the example binaries read.
//   - examples/regcred (the CLI), examples/console (the settings page),
//     examples/regcred-controller, examples/platform, examples/docker-credential-regcred,
//     examples/kubelet-credential-provider.
//
// Secrets never show up in a log: every type that holds one redacts it under String, every
// fmt verb, slog and in error texts.
package regcred
