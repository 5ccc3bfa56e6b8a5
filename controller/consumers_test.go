package controller_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fx "github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/registry"
)

// TestHealthListsNamespacesServed: the namespaces holding a registry's Secret are its
// consumers in the Catalog's health, and follow pruning.
func TestHealthListsNamespacesServed(t *testing.T) {
	f := newFixture(t, nil)
	r := f.add(t, custom("consumers", "pw-c"))
	f.start(t)
	nss := f.namespaces(t, "consumers", 2)
	ctx := context.Background()
	consumers := func(want []string) func() error {
		return func() error {
			h, err := f.cat.Health(ctx, r.ID)
			if err != nil {
				return err
			}
			var got []string
			for _, c := range h.Consumers {
				if c.Kind == registry.ConsumerNamespace {
					got = append(got, c.Name)
				}
			}
			want = slices.Sorted(slices.Values(want))
			if !slices.Equal(got, want) {
				return fmt.Errorf("namespace consumers %v, want %v", got, want)
			}
			return nil
		}
	}
	fx.Eventually(t, 10*time.Second, "both namespaces listed", consumers(nss))

	n, err := f.k.Client.CoreV1().Namespaces().Get(ctx, nss[1], metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	delete(n.Labels, f.key)
	if _, err := f.k.Client.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	fx.Eventually(t, 10*time.Second, "pruned namespace no longer listed", consumers(nss[:1]))
}
