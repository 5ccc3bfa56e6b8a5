package controller

import (
	"context"
	"sort"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
)

// Usage reports the namespaces where the controller keeps a pull Secret of r, as
// "namespace/NAME": the uses that make Catalog.Delete refuse (registry.WithUsage) until the
// platform narrows the registry's scope and the controller has pruned them. It reads the
// informer's cache, so Run must have started.
func (c *Controller) Usage(_ context.Context, r registry.Registry) ([]string, error) {
	name := c.o.secretName(r)
	owned, err := c.secrets.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range owned {
		if s.Name == name {
			out = append(out, "namespace/"+s.Namespace)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Usages joins usage hooks into one for registry.WithUsage.
func Usages(hooks ...catalog.UsageFunc) catalog.UsageFunc {
	return func(ctx context.Context, r registry.Registry) ([]string, error) {
		var out []string
		for _, h := range hooks {
			if h == nil {
				continue
			}
			refs, err := h(ctx, r)
			if err != nil {
				return nil, err
			}
			out = append(out, refs...)
		}
		return out, nil
	}
}
