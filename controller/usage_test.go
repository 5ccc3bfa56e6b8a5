package controller_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/controller"
	fx "github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

// TestDeleteRefusedWhileServed: the namespaces the controller serves are uses; deleting the
// registry is refused until the platform narrows its scope and the controller has pruned.
func TestDeleteRefusedWhileServed(t *testing.T) {
	var ctrl *controller.Controller
	usage := catalog.WithUsage(func(ctx context.Context, r registry.Registry) ([]string, error) { return ctrl.Usage(ctx, r) })
	f := newFixture(t, []catalog.Option{usage})
	ctrl = f.ctrl
	r := custom("inuse", "pw")
	r.Scope = registry.Scope{Namespaces: []string{"inuse-*"}}
	r = f.add(t, r)
	name := kube.DefaultSecretName(r)
	f.start(t)
	ns := f.namespaces(t, "inuse", 1)[0]
	fx.Eventually(t, 10*time.Second, "served", func() error { return f.saLists(ns, "default", name) })
	ctx := context.Background()
	err := f.cat.Delete(ctx, r.ID)
	var inUse *catalog.InUseError
	if !errors.As(err, &inUse) || len(inUse.Refs) != 1 || inUse.Refs[0] != "namespace/"+ns {
		t.Fatalf("delete while served: %v, want InUseError naming namespace/%s", err, ns)
	}
	cur, _ := f.cat.Get(ctx, r.ID)
	cur.Scope = registry.Scope{Namespaces: []string{"nowhere-*"}}
	if _, err := f.cat.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	fx.Eventually(t, 10*time.Second, "pruned, then deleted", func() error {
		if err := f.cat.Delete(ctx, r.ID); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		return nil
	})
	fx.Eventually(t, 10*time.Second, "dropped from the serviceaccount", func() error { return f.saLacks(ns, "default", name) })
}
