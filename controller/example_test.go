package controller_test

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/controller"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cat := catalog.New(memory.New())
	r, _ := cat.Add(ctx, registry.Registry{ID: "ghcr-acme", Name: "GHCR acme", Kind: registry.KindGHCR,
		Fields: map[string]string{"username": "acme-bot", "token": "ghp_example"}})

	// A cluster with one namespace and its default ServiceAccount (client-go's fake here;
	// in-cluster or from a kubeconfig in a real deployment).
	client := fake.NewSimpleClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "team-a"}},
	)
	ctrl, err := controller.New(cat, client)
	if err != nil {
		panic(err)
	}
	go ctrl.Run(ctx)

	for range 500 {
		sa, _ := client.CoreV1().ServiceAccounts("team-a").Get(ctx, "default", metav1.GetOptions{})
		if len(sa.ImagePullSecrets) > 0 {
			s, _ := client.CoreV1().Secrets("team-a").Get(ctx, sa.ImagePullSecrets[0].Name, metav1.GetOptions{})
			fmt.Println(r.Name, "->", s.Name, s.Type)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Output: GHCR acme -> registry-secret-ghcr-acme kubernetes.io/dockerconfigjson
}
