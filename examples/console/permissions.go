package main

import (
	"context"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
)

// The console renders the Catalog's policy rather than keeping its own: a button is
// offered when the Authorizer the Catalog enforces allows its action, and the Catalog
// refuses the request anyway when it does not (a *catalog.ForbiddenError, answered 403
// on the pages and in the API alike).

// can reports whether the user of ctx may do act with r.
func (a *app) can(ctx context.Context, act catalog.Action, r registry.Registry) bool {
	return a.authz.Authorize(ctx, currentUser(ctx).principal(), act, r) == nil
}

// policyView is the policy as a table: who (a role relative to a registry) may do which
// action, asked of the Authorizer itself.
type policyView struct {
	Actions []catalog.Action
	Rows    []policyRow
}

type policyRow struct {
	Who     string
	Allowed []bool
}

// policyTable asks the Authorizer about one registry (owned by "owner", scoped to the team
// "payments") for each kind of user.
func (a *app) policyTable(ctx context.Context) *policyView {
	rec := registry.Registry{Name: "a registry", Kind: registry.KindCustom, Owner: "owner", Scope: registry.Scope{Teams: []string{"payments"}}}
	whos := []struct {
		label string
		p     catalog.Principal
	}{
		{"Admin", catalog.Principal{User: "admin-user", Roles: []string{catalog.RoleAdmin}}},
		{"Its owner", catalog.Principal{User: "owner"}},
		{"A member of its teams and projects", catalog.Principal{User: "member", Teams: []string{"payments"}}},
		{"Anyone else", catalog.Principal{User: "other", Teams: []string{"marketing"}}},
	}
	v := &policyView{Actions: catalog.Actions()}
	for _, w := range whos {
		row := policyRow{Who: w.label}
		for _, act := range v.Actions {
			row.Allowed = append(row.Allowed, a.authz.Authorize(ctx, w.p, act, rec) == nil)
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}
