package catalog

import (
	"context"
	"slices"

	"github.com/regcred/regcred/registry"
)

// authorize checks that the principal ctx carries may do a with r. Without an Authorizer
// every operation is allowed (one trusted operator); with one, an operation without a
// principal is refused. The authorizer sees the redacted record only.
func (c *Catalog) authorize(ctx context.Context, a Action, r registry.Registry) error {
	if c.authz == nil {
		return nil
	}
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return forbidden(p, a, r, "no principal: pass the request's context through catalog.WithPrincipal")
	}
	if !r.IsRedacted() { // a listing's records are redacted views already: no copy per record
		r = r.Redacted()
	}
	return c.authz.Authorize(ctx, p, a, r)
}

// allowed returns a filter of the records the principal of ctx may do a with, or nil
// when the Catalog checks nothing.
func (c *Catalog) allowed(ctx context.Context, a Action) func(registry.Registry) bool {
	if c.authz == nil {
		return nil
	}
	return func(r registry.Registry) bool { return c.authorize(ctx, a, r) == nil }
}

// filter keeps the records of all that keep allows (nil keeps all), in place.
func filter(all []registry.Registry, keep func(registry.Registry) bool) []registry.Registry {
	if keep == nil {
		return all
	}
	return slices.DeleteFunc(all, func(r registry.Registry) bool { return !keep(r) })
}

// actor is who the audit log names for ctx: the principal's user, or "" (the operator).
func actor(ctx context.Context) string {
	p, _ := PrincipalFrom(ctx)
	return p.User
}

// editActions are the actions an edit from cur to next needs, by what it really changes:
// ActionRotate when a secret (or the kind) changes, ActionScope for the Scope,
// ActionSetDefault for the default flag, ActionEdit for anything else. None: a no-op.
func editActions(cur, next registry.Registry) []Action {
	var out []Action
	changed := registry.ChangedFields(cur, next)
	if registry.Rotated(cur, next) {
		out = append(out, ActionRotate)
	}
	other := false
	for _, f := range changed {
		switch f {
		case "scope":
			out = append(out, ActionScope)
		case "default":
			out = append(out, ActionSetDefault)
		case "kind": // a rotation, above
		case "name", "url", "tls", "owner", "mirror", "credentialsExpire":
			other = true
		default: // a credential field: a secret one is a rotation, above
			other = other || !cur.IsSecretField(f) && !next.IsSecretField(f)
		}
	}
	if other {
		out = append(out, ActionEdit)
	}
	return out
}

// auditAction names a change for the audit log: the first of the actions it needed in
// the order rotate, scope, set-default (or unset-default), edit.
func auditAction(actions []Action, next registry.Registry) string {
	for _, a := range []Action{ActionRotate, ActionScope, ActionSetDefault, ActionEdit} {
		if slices.Contains(actions, a) {
			if a == ActionSetDefault && !next.Default {
				return "unset-default"
			}
			return string(a)
		}
	}
	return string(ActionEdit)
}
