package tokensecret

import "strings"

// The annotations of a token Secret. A user names the ServiceAccount with one of the two
// name keys; the reconciler writes the rest of the same family (ours, or the document's
// own payload-registry.deckhouse.io keys, so seed 004's example works unchanged).
const (
	// AnnotationServiceAccount names the ServiceAccount (of the Secret's own namespace)
	// whose token fills the Secret. Set by the user.
	AnnotationServiceAccount = "regcred.io/service-account.name"
	// AnnotationServiceAccountUID is the UID of the ServiceAccount the token was issued for.
	AnnotationServiceAccountUID = "regcred.io/service-account.uid"
	// AnnotationExpiresAt is when the token in the Secret expires (RFC 3339, UTC).
	AnnotationExpiresAt = "regcred.io/expires-at"
	// AnnotationHash is the sha256 (hex) of the .dockerconfigjson the reconciler wrote.
	AnnotationHash = "regcred.io/content-hash"
	// AnnotationRegistry optionally names the registry the token is for: its host, or the
	// ID or name of its Kubernetes-token record. Set by the user; without it the Catalog's
	// only (or default) Kubernetes-token record is used.
	AnnotationRegistry = "regcred.io/token-registry"

	// DocumentPrefix is the prefix of seed 004's keys (Deckhouse's payload registry):
	// DocumentPrefix + "service-account.name", "service-account.uid", "expires-at", "hash".
	DocumentPrefix = "payload-registry.deckhouse.io/"
)

// family is one set of annotation keys.
type family struct {
	name, uid, expiresAt, hash string
}

var (
	ours = family{AnnotationServiceAccount, AnnotationServiceAccountUID, AnnotationExpiresAt, AnnotationHash}
	docs = family{DocumentPrefix + "service-account.name", DocumentPrefix + "service-account.uid",
		DocumentPrefix + "expires-at", DocumentPrefix + "hash"}
)

// Annotated reports whether a Secret's annotations name a ServiceAccount (either family).
func Annotated(annotations map[string]string) bool {
	_, a := annotations[ours.name]
	_, b := annotations[docs.name]
	return a || b
}

// familyOf picks the family whose name key is set; conflict is true when both are set to
// different names.
func familyOf(annotations map[string]string) (f family, sa string, conflict bool) {
	a, okA := annotations[ours.name]
	b, okB := annotations[docs.name]
	switch {
	case okA && okB && strings.TrimSpace(a) != strings.TrimSpace(b):
		return ours, "", true
	case okA:
		return ours, strings.TrimSpace(a), false
	}
	return docs, strings.TrimSpace(b), false
}
