package testenv

import (
	"context"
	"testing"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestKube(t *testing.T) {
	k := StartKube(t)
	ctx := context.Background()
	ns := k.Namespace(t, "testenv")

	t.Run("admin writes", func(t *testing.T) {
		_, err := k.Client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("admin create: %v", err)
		}
	})
	t.Run("limited user is forbidden", func(t *testing.T) {
		_, err := k.LimitedClient(t).CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "y"}}, metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) {
			t.Fatalf("limited create: got %v, want Forbidden", err)
		}
	})
	t.Run("token request and review", func(t *testing.T) {
		_, err := k.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "sa"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := k.Client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "sa", &authv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("token request: %v", err)
		}
		rev, err := k.Client.AuthenticationV1().TokenReviews().Create(ctx, &authv1.TokenReview{Spec: authv1.TokenReviewSpec{Token: tr.Status.Token}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("token review: %v", err)
		}
		if want := "system:serviceaccount:" + ns + ":sa"; !rev.Status.Authenticated || rev.Status.User.Username != want {
			t.Fatalf("review: authenticated=%v user=%q, want %q (error %q)", rev.Status.Authenticated, rev.Status.User.Username, want, rev.Status.Error)
		}
	})
}
