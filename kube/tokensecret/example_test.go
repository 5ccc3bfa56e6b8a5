package tokensecret_test

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/kube/tokensecret"
	"github.com/regcred/regcred/providers/kubesa/kubesatest"
	"github.com/regcred/regcred/registry"
)

// registries is a fixed list standing in for a *catalog.Catalog.
type registries []registry.Registry

func (r registries) List(context.Context) ([]registry.Registry, error) { return r, nil }

// Seed 004's Secret, annotated with the ServiceAccount's name, is filled with a token of
// that ServiceAccount for the Catalog's Kubernetes-token registry, annotated with the
// document's keys and owned by the ServiceAccount.
func Example() {
	now := time.Date(2026, 3, 5, 2, 14, 19, 0, time.UTC)
	client := kubesatest.NewClientset(kubesatest.ServiceAccount("project-1", "my-pull-sa"))
	client.Now = func() time.Time { return now }
	regs := registries{{ID: "payload", Name: "payload registry", Kind: registry.KindKubernetes, Server: "payload-registry.example.com",
		Fields: map[string]string{"serviceAccount": "payload/registry", "audience": "payload-registry.example.com"}}}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go tokensecret.New(client, regs, tokensecret.WithClock(clock.NewFake(now))).Run(ctx)

	secrets := client.CoreV1().Secrets("project-1")
	secrets.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "my-pull-secret", Annotations: map[string]string{
			"payload-registry.deckhouse.io/service-account.name": "my-pull-sa"}},
		Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{".dockerconfigjson": []byte(`{"auths":{}}`)},
	}, metav1.CreateOptions{})
	var s *corev1.Secret
	for s == nil || s.Annotations["payload-registry.deckhouse.io/hash"] == "" {
		time.Sleep(10 * time.Millisecond)
		s, _ = secrets.Get(ctx, "my-pull-secret", metav1.GetOptions{})
	}
	keys := make([]string, 0, len(s.Annotations))
	for k := range s.Annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "payload-registry.deckhouse.io/expires-at" || k == "payload-registry.deckhouse.io/service-account.name" {
			fmt.Println(k+":", s.Annotations[k])
		} else {
			fmt.Println(k + ": set")
		}
	}
	fmt.Println("owner:", s.OwnerReferences[0].Kind, s.OwnerReferences[0].Name)
	// Output:
	// payload-registry.deckhouse.io/expires-at: 2026-03-06T02:14:19Z
	// payload-registry.deckhouse.io/hash: set
	// payload-registry.deckhouse.io/service-account.name: my-pull-sa
	// payload-registry.deckhouse.io/service-account.uid: set
	// owner: ServiceAccount my-pull-sa
}
