package kube_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/regcred/regcred/kube"
)

// SecretCurrent is the one comparison of the Syncer and the controller: the union of what
// each checked before (the controller missed a Secret with an extra data key only when the
// counts differed; the Syncer ignored the managed-by label and the registry annotation).
func TestSecretCurrent(t *testing.T) {
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	want := kube.NewSecret("ns", "registry-secret-a", []byte(`{"auths":{}}`), exp, "a", "Registry A")
	for _, tc := range []struct {
		name    string
		edit    func(s *corev1.Secret)
		current bool
	}{
		{"same", func(*corev1.Secret) {}, true},
		{"others' labels and annotations", func(s *corev1.Secret) {
			s.Labels["team"] = "x"
			s.Annotations["note"] = "y"
		}, true},
		{"other data", func(s *corev1.Secret) { s.Data[corev1.DockerConfigJsonKey] = []byte(`{"auths":{"x":{}}}`) }, false},
		{"an extra data key", func(s *corev1.Secret) { s.Data["extra"] = []byte("x") }, false},
		{"another type", func(s *corev1.Secret) { s.Type = corev1.SecretTypeOpaque }, false},
		{"the legacy hash annotation", func(s *corev1.Secret) { s.Annotations[kube.LegacyAnnotationHash] = "h" }, false},
		{"another registry ID", func(s *corev1.Secret) { s.Labels[kube.LabelRegistryID] = "b" }, false},
		{"another managed-by value", func(s *corev1.Secret) { s.Labels[kube.LabelManagedBy] = "other" }, false},
		{"another expiry", func(s *corev1.Secret) { delete(s.Annotations, kube.AnnotationExpiresAt) }, false},
		{"a renamed registry", func(s *corev1.Secret) { s.Annotations[kube.AnnotationRegistry] = "Old name" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := want.DeepCopy()
			tc.edit(cur)
			if got := kube.SecretCurrent(cur, want); got != tc.current {
				t.Fatalf("SecretCurrent = %v, want %v", got, tc.current)
			}
			if tc.current {
				return
			}
			if cur.Type != want.Type {
				return // replaced, not merged
			}
			next := kube.MergeSecret(cur, want)
			if !kube.SecretCurrent(next, want) {
				t.Fatalf("MergeSecret did not make it current: %+v", next)
			}
		})
	}
}

// MergeSecret keeps everyone else's labels and annotations, drops regcred's annotations
// want no longer has, and leaves cur untouched.
func TestMergeSecretKeepsOthers(t *testing.T) {
	cur := kube.NewSecret("ns", "s", []byte("old"), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), "a", "A")
	cur.Labels["team"] = "payments"
	cur.Annotations["owner"] = "ops"
	cur.Annotations[kube.LegacyAnnotationHash] = "h"
	cur.Data["extra"] = []byte("x")
	want := kube.NewSecret("ns", "s", []byte("new"), time.Time{}, "a", "")
	next := kube.MergeSecret(cur, want)
	if next.Labels["team"] != "payments" || next.Annotations["owner"] != "ops" {
		t.Fatalf("others' metadata lost: %v %v", next.Labels, next.Annotations)
	}
	for _, k := range []string{kube.AnnotationExpiresAt, kube.AnnotationRegistry, kube.LegacyAnnotationHash} {
		if _, ok := next.Annotations[k]; ok {
			t.Errorf("annotation %s kept", k)
		}
	}
	if len(next.Data) != 1 || string(next.Data[corev1.DockerConfigJsonKey]) != "new" {
		t.Fatalf("data %v", next.Data)
	}
	if string(cur.Data[corev1.DockerConfigJsonKey]) != "old" || cur.Annotations[kube.AnnotationRegistry] != "A" {
		t.Fatal("MergeSecret changed cur")
	}
}
