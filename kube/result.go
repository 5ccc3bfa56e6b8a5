package kube

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Action is what a sync did with one Secret or ServiceAccount.
type Action string

// The actions.
const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
	Pruned    Action = "pruned"
	Patched   Action = "patched" // a ServiceAccount got (or lost) imagePullSecrets entries
	Failed    Action = "failed"
)

// Item is one object a sync handled.
type Item struct {
	Kind     string // "Secret" or "ServiceAccount"
	Name     string
	Registry string // the registry's name, for Secrets; "" when unknown (pruned orphans)
	Action   Action
	Err      error // set when Action is Failed: the cause
}

// NamespaceResult is what a sync did in one namespace.
type NamespaceResult struct {
	Namespace string
	Items     []Item
}

// Count returns how many items ended with a.
func (n NamespaceResult) Count(a Action) int {
	c := 0
	for _, it := range n.Items {
		if it.Action == a {
			c++
		}
	}
	return c
}

// Err joins the namespace's failures, each naming its object; nil when none failed.
func (n NamespaceResult) Err() error {
	var errs []error
	for _, it := range n.Items {
		if it.Action == Failed {
			errs = append(errs, fmt.Errorf("namespace %s: %s %s: %w", n.Namespace, strings.ToLower(it.Kind), it.Name, it.Err))
		}
	}
	return errors.Join(errs...)
}

// Result is what a sync did, per namespace (sorted by name).
type Result struct {
	Namespaces []NamespaceResult
	// ExpiresAt is the earliest expiry of the credentials written or kept; zero when none
	// expires. A Refresher syncs again before it.
	ExpiresAt time.Time
	// RefreshAt is when the earliest of those credentials is due to be fetched again, as
	// its provider says (registry.RefreshAt: the refreshing cache's one rule); zero when
	// none expires. A Refresher wakes then.
	RefreshAt time.Time
	// Writes is how many create, update, patch and delete requests the sync sent.
	Writes int
}

// Count returns how many items in every namespace ended with a.
func (r *Result) Count(a Action) int {
	c := 0
	for _, n := range r.Namespaces {
		c += n.Count(a)
	}
	return c
}

// Namespace returns the result of one namespace.
func (r *Result) Namespace(name string) (NamespaceResult, bool) {
	i := sort.Search(len(r.Namespaces), func(i int) bool { return r.Namespaces[i].Namespace >= name })
	if i < len(r.Namespaces) && r.Namespaces[i].Namespace == name {
		return r.Namespaces[i], true
	}
	return NamespaceResult{}, false
}

// Err joins every failure; nil when nothing failed.
func (r *Result) Err() error {
	var errs []error
	for _, n := range r.Namespaces {
		if err := n.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// String renders a table, one line per namespace:
//
//	NAMESPACE   CREATED  UPDATED  UNCHANGED  PRUNED  PATCHED  FAILED
//	env-prod    1        0        0          0       1        0
func (r *Result) String() string {
	var b strings.Builder
	w := 9
	for _, n := range r.Namespaces {
		if len(n.Namespace) > w {
			w = len(n.Namespace)
		}
	}
	fmt.Fprintf(&b, "%-*s  CREATED  UPDATED  UNCHANGED  PRUNED  PATCHED  FAILED\n", w, "NAMESPACE")
	for _, n := range r.Namespaces {
		fmt.Fprintf(&b, "%-*s  %-7d  %-7d  %-9d  %-6d  %-7d  %d\n", w, n.Namespace,
			n.Count(Created), n.Count(Updated), n.Count(Unchanged), n.Count(Pruned), n.Count(Patched), n.Count(Failed))
	}
	return b.String()
}
