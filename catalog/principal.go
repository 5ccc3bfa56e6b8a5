package catalog

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registry"
)

// Principal is who acts on the Catalog: a signed-in user of the platform, or a component
// of it (the controller) under a name of its own. The platform authenticates; the Catalog
// only reads what the platform says. It travels in the context (WithPrincipal), so every
// operation of every consumer has an actor without a parameter added to each method.
type Principal struct {
	User     string   // the acting user's stable name or ID; recorded as Owner and in audit
	Teams    []string // the teams the user belongs to (matched against Scope.Teams)
	Projects []string // the projects the user belongs to (matched against Scope.Projects)
	Roles    []string // platform roles; RoleAdmin may do everything
}

// RoleAdmin is the role that may do everything the policy allows anyone (DefaultPolicy).
const RoleAdmin = "admin"

// IsZero reports whether p names nobody.
func (p Principal) IsZero() bool {
	return p.User == "" && len(p.Teams) == 0 && len(p.Projects) == 0 && len(p.Roles) == 0
}

// Has reports whether p holds role.
func (p Principal) Has(role string) bool { return slices.Contains(p.Roles, role) }

// String names the principal for logs and errors (the user, bounded and escaped).
func (p Principal) String() string {
	if p.User == "" {
		return "anonymous principal"
	}
	return "principal " + untrusted.Text(untrusted.Limit(p.User, 64))
}

// LogValue logs the user only; teams, projects and roles stay out of logs.
func (p Principal) LogValue() slog.Value { return slog.StringValue(p.String()) }

type principalKey struct{}

// WithPrincipal returns a context that carries p: every Catalog operation made with it acts
// as p, and is authorized and recorded as p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal ctx carries, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Action is what a principal asks to do with a registry.
type Action string

// The actions the Catalog authorizes; DefaultPolicy's table says who may do each.
const (
	ActionList       Action = "list"        // see that the registry exists (List, Subscribe)
	ActionView       Action = "view"        // read its redacted record, health and audit
	ActionUse        Action = "use"         // pull with it (Keychain, Provider, deployments)
	ActionTest       Action = "test"        // run the connection test with its stored secret
	ActionAdd        Action = "add"         // save a new registry (the principal becomes Owner)
	ActionEdit       Action = "edit"        // change name, server, TLS, mirror or expiry
	ActionRotate     Action = "rotate"      // change a secret field
	ActionScope      Action = "scope"       // change who may use it (Scope)
	ActionSetDefault Action = "set-default" // make it the default registry of everyone
	ActionDelete     Action = "delete"      // delete it
	ActionReveal     Action = "reveal"      // read its secrets (Reveal, RevealAll: an export)
)

// Actions lists every Action in the order of the policy table.
func Actions() []Action {
	return []Action{ActionList, ActionView, ActionUse, ActionTest, ActionAdd, ActionEdit,
		ActionRotate, ActionScope, ActionSetDefault, ActionDelete, ActionReveal}
}

// Authorizer decides whether p may do a with r (for ActionAdd, r is the record to be saved).
// It returns nil, or an error that errors.Is registry.ErrForbidden (a *ForbiddenError
// names the action). It must be safe for concurrent use and must not do I/O that can hang:
// it runs on every operation.
type Authorizer interface {
	Authorize(ctx context.Context, p Principal, a Action, r registry.Registry) error
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, p Principal, a Action, r registry.Registry) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, p Principal, a Action, r registry.Registry) error {
	return f(ctx, p, a, r)
}

// ForbiddenError is a refusal: who asked, which action, which registry. It never holds a
// value of the record. errors.Is(err, registry.ErrForbidden) holds.
type ForbiddenError struct {
	Action   Action
	Registry string // the registry's name, bounded and escaped
	User     string // the principal's user, bounded and escaped
	Reason   string // why, in the user's words ("only its owner or an admin may rotate it")
}

func (e *ForbiddenError) Error() string {
	who := e.User
	if who == "" {
		who = "an anonymous principal"
	}
	msg := fmt.Sprintf("%s may not %s", who, e.Action)
	if e.Registry != "" {
		msg += fmt.Sprintf(" registry %q", e.Registry)
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg + ": " + registry.ErrForbidden.Error()
}

// Is makes errors.Is(err, registry.ErrForbidden) hold; a refused delete also matches
// registry.ErrNotOwner, the sentinel delete refusals carried before the Authorizer.
func (e *ForbiddenError) Is(target error) bool {
	return target == registry.ErrForbidden || target == registry.ErrNotOwner && e.Action == ActionDelete
}

func forbidden(p Principal, a Action, r registry.Registry, reason string) error {
	return &ForbiddenError{Action: a, Registry: untrusted.Text(untrusted.Limit(r.Name, 64)),
		User: untrusted.Text(untrusted.Limit(p.User, 64)), Reason: reason}
}

// DefaultPolicy is the documented default policy: the table in the package doc. "admin"
// holds RoleAdmin; "owner" is the record's Owner; "member" is a principal the registry's
// Scope includes (Member). A principal without a User is anonymous and may do nothing.
func DefaultPolicy() Authorizer { return defaultPolicy{} }

type defaultPolicy struct{}

func (defaultPolicy) Authorize(_ context.Context, p Principal, a Action, r registry.Registry) error {
	if p.User == "" {
		return forbidden(p, a, r, "sign in first")
	}
	if p.Has(RoleAdmin) {
		return nil
	}
	owner := r.Owner != "" && r.Owner == p.User
	member := owner || Member(p, r.Scope)
	switch a {
	case ActionAdd:
		return nil
	case ActionList, ActionView, ActionUse, ActionTest:
		if member {
			return nil
		}
		return forbidden(p, a, r, "its scope does not include your teams or projects")
	case ActionEdit, ActionRotate, ActionScope, ActionDelete:
		if owner {
			return nil
		}
		return forbidden(p, a, r, "only its owner or an admin may")
	case ActionSetDefault:
		return forbidden(p, a, r, "only an admin may choose the default registry")
	case ActionReveal:
		return forbidden(p, a, r, "only an admin may read its secrets")
	}
	return forbidden(p, a, r, "unknown action")
}

// Member reports whether scope s includes p as a person: p shares one of s.Teams and one of
// s.Projects where those are set. Namespaces limit deployments, not people, and are not
// consulted; the zero Scope includes everyone.
func Member(p Principal, s registry.Scope) bool {
	if len(s.Teams) > 0 && !(registry.Scope{Teams: s.Teams}).Allows(registry.Subject{Teams: p.Teams}) {
		return false
	}
	if len(s.Projects) > 0 && !slices.ContainsFunc(p.Projects, func(pr string) bool {
		return registry.Scope{Projects: s.Projects}.Allows(registry.Subject{Project: pr})
	}) {
		return false
	}
	return true
}
