// Package tokensecret fills pull Secrets that users annotate with a ServiceAccount, with
// registry credentials derived from that ServiceAccount's token (seed 004, "Using images
// for authentication with Kubernetes tokens"), and keeps them fresh:
//
//	apiVersion: v1
//	kind: Secret
//	metadata:
//	  name: my-pull-secret
//	  annotations:
//	    payload-registry.deckhouse.io/service-account.name: my-pull-sa   # or regcred.io/service-account.name
//	type: kubernetes.io/dockerconfigjson
//	data:
//	  .dockerconfigjson: eyJhdXRocyI6e319   # a placeholder, overwritten
//
// # The annotations
//
// A user sets one name key; the reconciler writes the other keys of the same family:
//
//	ours                                 the document's (seed 004)                             set by
//	regcred.io/service-account.name      payload-registry.deckhouse.io/service-account.name    the user
//	regcred.io/token-registry            (none)                                                the user, optional
//	regcred.io/service-account.uid       payload-registry.deckhouse.io/service-account.uid     the reconciler
//	regcred.io/expires-at                payload-registry.deckhouse.io/expires-at              the reconciler (RFC 3339, UTC)
//	regcred.io/content-hash              payload-registry.deckhouse.io/hash                    the reconciler (sha256 hex of .dockerconfigjson)
//
// The hash is unsalted: it is the hash of a signed ServiceAccount token (hundreds of random
// bits), not of a password, so it gives nothing to guess offline (kube's managed Secrets,
// which may hold passwords, carry no hash for that reason).
//
// # Rules
//
//   - Only Secrets of type kubernetes.io/dockerconfigjson are watched (a field selector on
//     type); of those only the annotated ones are touched. Nothing else of the Secret
//     changes: its other labels and annotations stay, and it gets no managed-by label (the
//     kube Syncer never prunes it).
//   - Only a ServiceAccount of the Secret's own namespace may be named (a name; a
//     "namespace/name" is refused), and only one the Policy allows (WithPolicy; the default
//     allows any of that namespace: whoever may create a Secret there may already have
//     Kubernetes mint a token Secret of any of them). A refused, malformed or missing one
//     gets a Warning Event on the Secret saying why, and the placeholder is left alone.
//   - The registry the token is for is the Kubernetes-token record (registry.KindKubernetes)
//     named by regcred.io/token-registry (its host, ID or name), else the only such record,
//     else the default one among several; its expirationSeconds (default 24 h) shape the
//     TokenRequest (providers/kubesa), and so does its audience, which defaults to the
//     registry's host: never the API server's, so whoever may read the Secret gets a token
//     the registry takes and the API server refuses. The Secret's .dockerconfigjson holds
//     that host with username "token" and the token as the password.
//   - The Secret is owned by its ServiceAccount (an ownerReference, same namespace), so
//     Kubernetes' garbage collector deletes it with the ServiceAccount; a ServiceAccount
//     recreated under the same name (another UID) gets a fresh token and owner.
//   - Refresh: at four fifths of the token's real life (the expiry the API server answered,
//     which may be shorter than asked), on the reconciler's clock (WithClock). After a
//     restart a Secret whose hash, UID and expiry are current is left alone until then.
//   - A failed TokenRequest writes nothing: the Secret keeps its working token until that
//     expires, a Warning Event says why, and the Secret is retried with backoff (1 s to
//     5 min). No token ever appears in an Event, a log line or an error.
//   - Run needs, in the namespaces it serves: get, list, watch and update on secrets; get
//     on serviceaccounts; create on serviceaccounts/token; create and patch on events.
//
// Tested on the real kube-apiserver with kube-controller-manager's garbage collector
// (internal/testenv): seed 004's Secret as written is filled (about 0.1 s), its token is
// accepted by TokenReview for the registry's audience, it is refreshed when a fake clock
// reaches the refresh point, a refresh forbidden by RBAC leaves it untouched, refusals get
// their Events, and it is gone once its ServiceAccount is deleted. With a kubelet (containerd
// CRI) in the harness, a pod naming the filled Secret pulls from a registry that takes
// Kubernetes tokens (a distribution registry behind a TokenReview front, as seed 004's
// payload registry authenticates), and the same pod without it gets the registry's 401.
package tokensecret
