package kubesa

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/providers/cache"
	"github.com/regcred/regcred/registry"
)

func TestMain(m *testing.M) { testenv.KubeMain(m) }

// Against the real kube-apiserver (etcd + kube-apiserver on loopback): the token comes
// from the TokenRequest API with the audience and lifetime asked, TokenReview accepts it
// for that audience as the ServiceAccount, a deleted ServiceAccount is ErrNotFound, and a
// caller without RBAC is ErrForbidden.
func TestRealAPIServer(t *testing.T) {
	k := testenv.StartKube(t)
	ctx := context.Background()
	ns := k.Namespace(t, "kubesa")
	const audience = "payload-registry.example.com"
	if _, err := k.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "puller"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	p, err := New(k.Client, ns, "puller", WithAudiences(audience), WithLifetime(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	c, err := cache.New(p).Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Username != DefaultUsername || c.Password == "" {
		t.Fatalf("credentials = %v", c)
	}
	if d := c.ExpiresAt.Sub(before); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("token lives %v, want the hour asked", d)
	}

	review := func(aud string) *authv1.TokenReview {
		rev, err := k.Client.AuthenticationV1().TokenReviews().Create(ctx, &authv1.TokenReview{
			Spec: authv1.TokenReviewSpec{Token: c.Password.Reveal(), Audiences: []string{aud}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("token review: %v", err)
		}
		return rev
	}
	rev := review(audience)
	if want := "system:serviceaccount:" + ns + ":puller"; !rev.Status.Authenticated || rev.Status.User.Username != want {
		t.Fatalf("review: authenticated=%v user=%q, want %q (error %q)", rev.Status.Authenticated, rev.Status.User.Username, want, rev.Status.Error)
	}
	if rev := review("some-other-registry"); rev.Status.Authenticated {
		t.Fatal("the token is accepted for another audience")
	}

	// RBAC: a caller that may not create tokens.
	limited, _ := New(k.LimitedClient(t), ns, "puller")
	if _, err := limited.Credentials(ctx); !errors.Is(err, registry.ErrForbidden) || !strings.Contains(err.Error(), "serviceaccounts/token") {
		t.Fatalf("limited caller: err = %v, want ErrForbidden naming serviceaccounts/token", err)
	}

	// The ServiceAccount is deleted.
	if err := k.Client.CoreV1().ServiceAccounts(ns).Delete(ctx, "puller", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = p.Credentials(ctx)
	if !errors.Is(err, registry.ErrNotFound) || !strings.Contains(err.Error(), ns+"/puller") {
		t.Fatalf("deleted ServiceAccount: err = %v, want ErrNotFound naming %s/puller", err, ns)
	}
	if strings.Contains(err.Error(), c.Password.Reveal()) {
		t.Fatal("error leaks the token")
	}
}
