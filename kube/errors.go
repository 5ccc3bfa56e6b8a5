package kube

import (
	"errors"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/regcred/regcred/registry"
)

// ConflictError is a Secret regcred would write that exists but is not regcred's: it has
// the name regcred wants but lacks the managed-by label (or carries another manager's value).
// regcred leaves it alone. errors.Is(err, registry.ErrConflict) holds.
type ConflictError struct {
	Namespace string
	Name      string
	ManagedBy string // the label value found; "" when the label is absent
}

func (e *ConflictError) Error() string {
	by := "it has no " + LabelManagedBy + " label"
	if e.ManagedBy != "" {
		by = LabelManagedBy + " is " + strconv.Quote(e.ManagedBy)
	}
	return fmt.Sprintf("secret %s/%s exists and is not managed by regcred (%s); it was left alone: delete or rename it, or choose another secret name (WithSecretName)", e.Namespace, e.Name, by)
}

// Is makes errors.Is(err, registry.ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == registry.ErrConflict }

// ErrNamespaceTerminating is a write the API server refused because the namespace is being
// deleted (its NamespaceLifecycle admission answers Forbidden with the
// NamespaceTerminating cause). It is not an RBAC refusal: nothing needs granting, and the
// namespace's content is going away; a later namespace of the same name starts afresh.
var ErrNamespaceTerminating = errors.New("the namespace is terminating")

// apiError wraps an API server error with what regcred was doing and, for the common
// refusals, the sentinel and what to do about it.
func apiError(op, resource, namespace, name string, err error) error {
	what := resource
	if name != "" {
		what += " " + namespace + "/" + name
	} else if namespace != "" {
		what += " in namespace " + namespace
	}
	switch {
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return fmt.Errorf("%s %s: %w: the API server refuses new content in a namespace being deleted; nothing to grant, skip it (%v)", op, what, ErrNamespaceTerminating, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s %s: %w by RBAC: grant the client %s on %s in this namespace (%v)", op, what, registry.ErrForbidden, op, resource, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s %s: %w: the API server rejected the client's credentials; check the kubeconfig (%v)", op, what, registry.ErrUnauthorized, err)
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s %s: %w (%v)", op, what, registry.ErrNotFound, err)
	case apierrors.IsConflict(err):
		return fmt.Errorf("%s %s: %w: changed concurrently (%v)", op, what, registry.ErrConflict, err)
	case apierrors.IsInvalid(err):
		return fmt.Errorf("%s %s: %w: the API server refused the object (%v)", op, what, registry.ErrInvalid, err)
	case apierrors.IsServerTimeout(err), apierrors.IsTimeout(err), apierrors.IsServiceUnavailable(err), apierrors.IsTooManyRequests(err), apierrors.IsInternalError(err):
		return fmt.Errorf("%s %s: %w (%v)", op, what, registry.ErrUnavailable, err)
	}
	return fmt.Errorf("%s %s: %w", op, what, err)
}

// errCredentials marks a registry whose credentials could not be resolved: its Secrets are
// left as they are.
var errCredentials = errors.New("credentials not resolved; the existing secret was left unchanged")
