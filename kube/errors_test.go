package kube

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regcred/regcred/registry"
)

// terminatingRefusal is the error the API server's NamespaceLifecycle admission returns for
// a create in a terminating namespace (plugin/pkg/admission/namespace/lifecycle): Forbidden,
// with a NamespaceTerminating cause.
func terminatingRefusal(ns, name string) error {
	err := apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, name,
		fmt.Errorf("unable to create new content in namespace %s because it is being terminated", ns))
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{
		Type: corev1.NamespaceTerminatingCause, Message: "namespace " + ns + " is being terminated", Field: "metadata.namespace"})
	return err
}

func TestAPIErrorNamespaceTerminatingIsNotRBAC(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		is        error
		isNot     error
		says, not string
	}{
		{"terminating", terminatingRefusal("team-a", "regcred-acme"), ErrNamespaceTerminating, registry.ErrForbidden, "terminating", "RBAC"},
		{"rbac", apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "regcred-acme", errors.New(`User "bob" cannot create resource "secrets"`)),
			registry.ErrForbidden, ErrNamespaceTerminating, "by RBAC", "terminating"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := apiError("create", "secret", "team-a", "regcred-acme", tc.err)
			if !errors.Is(got, tc.is) || errors.Is(got, tc.isNot) {
				t.Errorf("errors.Is(%v): want %v, not %v", got, tc.is, tc.isNot)
			}
			msg := got.Error()
			if !strings.Contains(msg, tc.says) || strings.Contains(msg, tc.not) {
				t.Errorf("message %q: want %q, not %q", msg, tc.says, tc.not)
			}
			if !strings.Contains(msg, "create secret team-a/regcred-acme") {
				t.Errorf("message %q does not name the operation and object", msg)
			}
		})
	}
}
