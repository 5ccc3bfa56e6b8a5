// Package controller runs one reconcile loop over a catalog.Catalog and keeps every
// Kubernetes consumer in step: each selected namespace holds a current pull Secret of each
// registry that targets it, and its ServiceAccounts list them.
//
// It is built the way Kubernetes controllers are (k8s.io/sample-controller): shared
// informers over Namespaces, the Secrets the controller owns (the managed-by label) and
// ServiceAccounts; a rate-limited work queue of namespace names; and one sync(namespace)
// that reads the desired state (the resolved registries, the caches) and converges,
// idempotent and level-triggered. Every event (a namespace created or relabelled, a
// managed Secret deleted or edited, a ServiceAccount changed, a Catalog change, a token
// due for refresh) only queues namespaces; the sync decides what to write.
//
// # Rules
//
//   - A new selected namespace gets its Secrets at once. Its ServiceAccount (made by the
//     kube-controller-manager) may come later: a missing one is pending, not a failure,
//     and its creation brings the namespace back.
//   - Terminating namespaces are skipped: the API server refuses writes there and their
//     content is going away.
//   - Drift is repaired: a deleted or edited managed Secret is restored, a removed
//     imagePullSecrets entry is put back; others' labels, annotations and entries stay.
//   - A rotation or a token refresh updates every Secret in place (Update with the
//     resourceVersion read): never delete and create, so pods never see a missing Secret.
//     Only an owned Secret of the wrong type (immutable) is replaced.
//   - Pruning (on by default): the Secrets of a deleted registry, of a registry whose scope
//     no longer targets the namespace, and every owned Secret in a namespace that stopped
//     matching the selector are deleted (UID precondition) and dropped from the
//     ServiceAccounts.
//   - Ownership is the managed-by label (kube.LabelManagedBy, WithManagedBy): a Secret of
//     the same name without it is never touched; the namespace gets a
//     PullSecretConflict Event and is not retried until the next resync.
//   - Credentials are resolved once per registry for all namespaces, each registry on its
//     own (a hung token endpoint delays only its own Secrets), from the record a Catalog
//     event carries, through the Catalog's one provider of the record (Catalog.Provider:
//     no full-record read, no new listing per event). A registry is resolved again on
//     its own change and when its provider is due to fetch anew (registry.RefreshAt: the
//     refreshing cache's one rule), on WithClock's clock. A registry whose credentials
//     fail keeps its Secrets exactly as they are; one not resolved yet keeps them too.
//   - A deleted or changed record's credentials are never written after the change: a
//     result resolved for a version that is no longer the newest is dropped, and every
//     write happens inside the Catalog's fence on the credentials it carries
//     (Catalog.Use), so once Delete or Update has returned, nothing writes the old
//     version (within the process; a replica stops at its next write).
//   - A failed write becomes a Warning Event on the Namespace (client-go tools/record,
//     which aggregates repeats) and the namespace is retried with exponential back-off
//     (the work queue's rate limiter, 5 ms to 1000 s).
//   - Pods are never restarted or deleted. A Pod created before its ServiceAccount listed
//     the Secret never gets it; one stuck pulling (ErrImagePull, ImagePullBackOff) an
//     image of a registry served in its namespace gets one Warning Event
//     (ReasonPodMissingPullSecret, or ReasonPodPullFailing when it lists the Secret), so
//     its owner can recreate it (WithPodEvents; RBAC: read pods).
//   - Which registry goes where: WithNamespaceSelector picks the namespaces; per registry,
//     its whole Scope decides (kube.ScopeLabels.Allows, the Syncer's rule): namespace
//     patterns, and teams and projects through the namespace labels WithScopeLabels names.
//     A registry scoped to teams or projects goes nowhere until those labels are named
//     (it fails closed). Whoever may label a namespace may claim a team: see
//     kube.ScopeLabels. WithTargets replaces the rule.
//
// # The client
//
// The controller sends two writes per new namespace (the Secret, the ServiceAccount
// update) and no reads: everything it compares comes from its informers' lists and
// watches. Give it a client sized for that: client-go's default of 5 requests per second
// (rest.Config QPS and Burst left zero) makes the initial sync of 1,000 namespaces take
// over six minutes, and protobuf (rest.Config ContentType
// "application/vnd.kubernetes.protobuf", as kube-controller-manager uses) makes its
// watches cheaper to encode and decode than JSON. BenchmarkInitialSync compares the
// initial sync with the same writes sent in raw parallel.
//
// # Replicas, health, metrics
//
// WithLeaderElection makes several replicas share one Lease (client-go
// tools/leaderelection): all keep warm caches, only the leader resolves and writes, and a
// follower takes over about LeaseDuration + RetryPeriod after the leader dies. Run returns
// ErrLostLeadership when the lease is lost; the process should exit.
//
// Without Kubernetes (or with a database trusted more), WithElector takes any Elector:
// ElectorFunc around store/postgres's advisory-lock lease (Store.Acquire) is one.
// WithLeaderTasks runs more loops (swarm.Reauth.Run) only while this replica leads.
//
// Handler serves /healthz, /readyz and /metrics (Prometheus client_golang; see Metrics).
//
// # Swarm and docker hosts
//
// The loops that keep other consumers fresh live with their concepts and share the
// controller's refresh rule (registry.RefreshAt) and pass loop (internal/passloop):
// swarm.Reauth re-auths Swarm services that use a saved registry (pass its Run to
// WithLeaderTasks so one replica does it), and keeper.Keeper keeps a
// config.json current for tools that cannot run a credential helper (WithDockerConfig
// runs it beside the controller on every replica).
//
// # In use
//
// The leader records the namespaces holding each registry's Secret as its consumers
// (Catalog.SetConsumers, kind registry.ConsumerNamespace), as swarm.Reauth does for services, so
// the per-registry health lists what it serves. Controller.Usage and swarm.Reauth.Usage report the namespaces and services served; join them
// with Usages into registry.WithUsage and Catalog.Delete refuses a registry that still
// reaches them, until the platform narrows its scope and the controller has pruned.
package controller
