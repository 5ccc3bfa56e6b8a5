// Package kube keeps Kubernetes image pull Secrets for saved registries: it builds
// kubernetes.io/dockerconfigjson Secrets (Build, BuildCombined, NewSecret), syncs them into
// target namespaces (Syncer), keeps expiring credentials fresh (Refresher), adds them to
// ServiceAccounts and pod specs (WithServiceAccounts, AddImagePullSecrets), and reads
// existing pull Secrets back as the kubelet would (Keychain).
//
// It imports registry, dockerconfig, k8s.io/api and client-go; callers pass their own
// kubernetes.Interface (in-cluster, from a kubeconfig, or client-go's fake clientset).
//
// # The Secrets
//
// One Secret per registry and namespace, named "registry-secret-{id}" (DefaultSecretName;
// WithSecretName changes it), type kubernetes.io/dockerconfigjson, with the deterministic
// encoding of dockerconfig (byte-identical for equal credentials). Labels:
// app.kubernetes.io/managed-by=regcred (WithManagedBy sets another value, so two platforms
// sharing a cluster never touch each other's Secrets) and regcred.io/registry-id.
// Annotations: regcred.io/registry (the registry's name) and, for expiring credentials,
// regcred.io/expires-at (RFC 3339 UTC). Nothing derived from the credentials is written
// outside the data (no hash: an unsalted one, as earlier versions wrote in regcred.io/hash,
// lets anyone who may describe the Secret guess a weak password offline; a Syncer removes
// that annotation with one update per Secret). Public registries, and providers that
// answer anonymous, get no Secret. A redacted view of a record (registry.Registry.IsRedacted)
// is refused everywhere with registry.ErrRedacted.
//
// # Rules of a sync
//
//   - Ownership is the managed-by label. A Secret without it (or with another value) is
//     never updated or deleted, even when it has the name regcred wants: that namespace
//     reports a *ConflictError (errors.Is registry.ErrConflict) naming it.
//   - Write only on change. A Secret whose data (compared byte for byte with the desired
//     data: the encoding is deterministic), type, registry label and expiry equal the
//     desired ones is left alone: a steady-state pass, and the first pass after a restart,
//     send no write.
//     The existing Secrets are read with ONE cluster-wide list (label selector); a client
//     that may not list cluster-wide falls back to one list per namespace.
//   - Credentials are resolved once per registry per pass, not per namespace, through the
//     factory's provider (a sharing factory keeps one per registry version across passes,
//     so a caching provider's token is reused and the steady state holds for token kinds).
//   - A registry's whole Scope decides where its Secret goes (ScopeLabels.Allows): its
//     namespace patterns, and its teams and projects through the namespace labels
//     WithScopeLabels names (then the Syncer lists namespaces). A registry scoped to teams
//     or projects gets no Secret while those labels are not named (it fails closed); one
//     scoped out of a namespace has its old Secret pruned there. Whoever may label a
//     namespace may claim a team: see ScopeLabels.
//   - A registry whose credentials fail is reported failed in every namespace and its
//     Secrets are left exactly as they are: never deleted, never blanked.
//   - Whether a Secret is current, and how it is updated, is SecretCurrent, MergeSecret and
//     ApplySecret: the controller decides and writes with the same functions.
//   - Updates keep others' labels and annotations, carry the resourceVersion read, and on a
//     conflict re-read (the Secret may have become current, or someone else's) and retry, at
//     most 5 times. An owned Secret of the wrong type is replaced (the type is immutable).
//     Deletes carry a UID precondition.
//   - With WithPrune, owned Secrets whose registry is gone, or that sit in a namespace no
//     longer targeted (found through the cluster-wide list), are deleted, and removed from
//     the patched ServiceAccounts.
//   - With WithServiceAccounts, each named ServiceAccount in each target namespace gets the
//     Secrets in imagePullSecrets; entries others put there stay, in their order.
//     There is no patch when nothing is missing. A missing ServiceAccount is a failure.
//   - Writes fan out over namespaces with at most WithConcurrency (default 16) in flight.
//   - The Result says, per namespace and object, created / updated / unchanged / pruned /
//     patched / failed with the cause; Result.Err joins the failures. API errors wrap
//     registry's sentinels (ErrForbidden with what RBAC must grant, ErrUnauthorized,
//     ErrNotFound, ErrConflict, ErrInvalid, ErrUnavailable).
//
// # Refreshing
//
// A Refresher runs passes in a loop: after a pass it sleeps until the earliest credentials
// are due (Result.RefreshAt: registry.RefreshAt of their provider, the refreshing cache's
// one rule; ±10% jitter) and syncs again, and that pass's Credentials call fetches anew:
// the Syncer keeps no times of its own and invalidates nothing. After a failing pass it
// backs off exponentially (1 s to 5 min by default). The Syncer keeps no providers between
// passes: give it a sharing factory (Catalog.ProviderFactory, or providers.Shared around
// providers.Factory), or every pass would fetch new tokens. Since a failed resolution never changes a Secret, the Secret
// in the cluster keeps working until its real expiry.
//
// # Reading pull Secrets
//
// Keychain answers what the kubelet would use for an image from a pod's pull Secrets, with
// the kubelet's own rules (pkg/credentialprovider keyring.go and secrets.go, ported as test
// tables in keychain_kubelet_test.go): every Secret goes into ONE index sorted in reverse
// lexical order of the normalized keys, so a path key in a later Secret is tried before a
// host key in an earlier one; a key's "/v1/" or "/v2/" path prefix is dropped; the port
// must be equal (a key without a port matches only images without one); host labels match
// one by one as globs ("*.example.com"); the key's path is a string prefix of the image's
// ("host/team" matches "host/teamx/app"); "index.docker.io" answers Docker Hub images that
// no key matches. Lookup normalizes an image as the kubelet's puller does ("nginx:1" is
// docker.io/library/nginx) and an empty or unparsable image matches nothing.
//
// This is deliberately not keychain.Keychain's rule for saved registries, which matches
// paths on whole segments ("ghcr.io/org" is not "ghcr.io/organisation") and hosts
// case-insensitively: that one decides what regcred sends; this one predicts what a node
// does with Secrets that may have been written by anyone.
//
// Where Keychain differs from the kubelet, on purpose:
//   - Docker Hub fallback: the kubelet takes any dotless first segment for Docker Hub, so
//     it gives the "index.docker.io" credentials to "localhost/app" or "MyHost/app", which
//     the reference grammar reads as other hosts. Keychain applies the fallback to
//     docker.io and index.docker.io names only: credentials never go to another host.
//   - A Secret of another type is an error naming it (the kubelet skips it silently): the
//     caller passed something that is not a pull Secret.
//   - Entries decode with package dockerconfig's rules, stricter than the kubelet's (a
//     username with a colon, or an "auth" that decodes to an empty username, is an error)
//     and richer (identitytoken and registrytoken are kept; the kubelet drops them).
//   - Credentials under one key come in the order of the Secrets, and within a Secret in
//     lexical order of the raw keys (the kubelet's order there is Go's map order, random).
//   - Resolve has one answer: the first entry the kubelet would try that carries
//     credentials (the kubelet also tries an entry without any, as an anonymous pull, in
//     its place). Lookup returns every entry, empty ones included, in the kubelet's order.
//
// The index is built once in NewKeychain (by host and port, by the literal labels after
// the last glob label, by path length), so Resolve is a few map lookups whatever the number
// of Secrets and allocates nothing (BenchmarkKeychainResolve; the nested module
// kube/internal/k8schainbench runs it beside go-containerregistry's k8schain).
package kube
