package kube

import (
	"bytes"
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/regcred/regcred/registry"
)

// SecretCurrent reports whether cur already holds want's content: the same type, exactly
// want's data (compared byte for byte: the encoding is deterministic; no extra key), the
// labels that mark it (managed-by, registry ID) and regcred's annotations (expires-at,
// registry name) as want has them, and no legacy hash annotation. Others' labels and
// annotations do not count. The Syncer and the controller decide with it.
func SecretCurrent(cur, want *corev1.Secret) bool {
	if cur == nil || want == nil {
		return cur == want
	}
	_, legacy := cur.Annotations[LegacyAnnotationHash]
	return cur.Type == want.Type && !legacy &&
		len(cur.Data) == len(want.Data) &&
		bytes.Equal(cur.Data[corev1.DockerConfigJsonKey], want.Data[corev1.DockerConfigJsonKey]) &&
		cur.Labels[LabelRegistryID] == want.Labels[LabelRegistryID] &&
		cur.Labels[LabelManagedBy] == want.Labels[LabelManagedBy] &&
		cur.Annotations[AnnotationExpiresAt] == want.Annotations[AnnotationExpiresAt] &&
		cur.Annotations[AnnotationRegistry] == want.Annotations[AnnotationRegistry]
}

// MergeSecret returns a copy of cur with want's content: want's data (replacing all of
// cur's), want's labels and annotations over cur's, regcred's own annotations that want
// lacks removed (an expiry of credentials that no longer expire, the legacy hash), and
// everyone else's labels and annotations kept. cur's type, name and metadata the API
// server owns (UID, resourceVersion) stay: the result is an update of cur.
func MergeSecret(cur, want *corev1.Secret) *corev1.Secret {
	next := cur.DeepCopy()
	if next.Labels == nil {
		next.Labels = map[string]string{}
	}
	if next.Annotations == nil {
		next.Annotations = map[string]string{}
	}
	delete(next.Annotations, AnnotationExpiresAt)
	delete(next.Annotations, AnnotationRegistry)
	delete(next.Annotations, LegacyAnnotationHash)
	for k, v := range want.Labels {
		next.Labels[k] = v
	}
	for k, v := range want.Annotations {
		next.Annotations[k] = v
	}
	next.Data = make(map[string][]byte, len(want.Data))
	for k, v := range want.Data {
		next.Data[k] = v
	}
	next.StringData = nil
	return next
}

// ApplySecret makes want (its namespace and name) exist with want's content, writing only
// what differs. cur is the Secret a list or an informer's cache holds under that name (nil
// when none is known). A Secret of that name that is not owned (its managed-by label is
// not managedBy) is left alone: a *ConflictError. An owned Secret of another type (the
// type is immutable) is deleted and created anew. A write that meets a newer version
// reads it again and retries, a few times. onWrite, when not nil, is called before each
// write with its verb ("create", "update", "delete"). It returns what the API server
// answered to the last write (cur when nothing was written) and what it did: Created,
// Updated or Unchanged. The Syncer and the controller apply with it.
func ApplySecret(ctx context.Context, secrets typedcorev1.SecretInterface, cur, want *corev1.Secret, managedBy string, onWrite func(verb string)) (*corev1.Secret, Action, error) {
	ns, name := want.Namespace, want.Name
	write := func(verb string) {
		if onWrite != nil {
			onWrite(verb)
		}
	}
	for attempt := 0; attempt <= maxConflictRetries; attempt++ {
		if cur == nil {
			write("create")
			got, err := secrets.Create(ctx, want, metav1.CreateOptions{})
			if err == nil {
				return got, Created, nil
			}
			if !apierrors.IsAlreadyExists(err) {
				return nil, Failed, apiError("create", "secret", ns, name, err)
			}
			// Someone has that name: ours (made concurrently, or not yet in the cache) or not.
			got, err = secrets.Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, Failed, apiError("get", "secret", ns, name, err)
			}
			cur = got
		}
		if !Owned(cur, managedBy) {
			return nil, Failed, &ConflictError{Namespace: ns, Name: name, ManagedBy: cur.Labels[LabelManagedBy]}
		}
		if SecretCurrent(cur, want) {
			return cur, Unchanged, nil
		}
		if cur.Type != want.Type {
			// The type is immutable: replace our own Secret (only the one that was read).
			write("delete")
			uid := cur.UID
			err := secrets.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return nil, Failed, apiError("replace", "secret", ns, name, err)
			}
			cur = nil
			continue
		}
		write("update")
		got, err := secrets.Update(ctx, MergeSecret(cur, want), metav1.UpdateOptions{})
		if err == nil {
			return got, Updated, nil
		}
		switch {
		case apierrors.IsConflict(err):
			got, gerr := secrets.Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(gerr) {
				cur = nil
				continue
			}
			if gerr != nil {
				return nil, Failed, apiError("get", "secret", ns, name, gerr)
			}
			cur = got
		case apierrors.IsNotFound(err):
			cur = nil
		default:
			return nil, Failed, apiError("update", "secret", ns, name, err)
		}
	}
	return nil, Failed, fmt.Errorf("update secret %s/%s: %w: still changing after %d re-reads", ns, name, registry.ErrConflict, maxConflictRetries)
}
