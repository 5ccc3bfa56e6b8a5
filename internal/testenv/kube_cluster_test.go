package testenv

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubeBehavesLikeACluster checks what the controller-manager and NamespaceLifecycle
// bring: a default ServiceAccount in every new namespace, deletion that finishes, and no
// writes into a terminating or missing namespace.
func TestKubeBehavesLikeACluster(t *testing.T) {
	k := StartKube(t)
	k.RequireControllerManager(t)
	ctx := context.Background()
	key, value := k.Selector(t)
	ns := k.LabeledNamespaces(t, "cluster", 1, map[string]string{key: value})[0]

	got, err := k.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: key + "=" + value})
	if err != nil || len(got.Items) != 1 || got.Items[0].Name != ns {
		t.Fatalf("selector %s=%s lists %v (%v), want only %s", key, value, got, err, ns)
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := k.Client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no default ServiceAccount after 10s: %v\n%s", err, tail(k.ControllerManagerLogs(), 4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	sa, err := k.PutServiceAccount(ctx, ns, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "theirs"}}})
	if err != nil || len(sa.ImagePullSecrets) != 1 {
		t.Fatalf("PutServiceAccount over the controller's default: %v, %v", sa, err)
	}

	// A ConfigMap keeps the namespace terminating for a moment; then it goes.
	if _, err := k.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := k.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = k.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "y"}}, metav1.CreateOptions{})
	if err == nil {
		t.Fatal("a write into a terminating (or deleted) namespace succeeded")
	}
	if !apierrors.IsForbidden(err) && !apierrors.IsNotFound(err) {
		t.Fatalf("write into a terminating namespace: %v, want Forbidden (NamespaceLifecycle) or NotFound", err)
	}
	deadline = time.Now().Add(60 * time.Second)
	for {
		_, err := k.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace still there 60s after delete: %v\n%s", err, tail(k.ControllerManagerLogs(), 4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := k.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "z"}}, metav1.CreateOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("write into a deleted namespace: %v, want NotFound (NamespaceLifecycle)", err)
	}
}
