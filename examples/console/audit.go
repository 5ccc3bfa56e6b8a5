package main

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
)

// The audit log the console shows is two logs merged by time: the Catalog's change log
// (Catalog.Changes: every registry change with its actor and the names of the fields that
// changed, written with the record, in the same transaction in the SQL stores, so every
// replica and the JSON API share it) and the console's own (logins, users, deployments).

// secretField reports whether name is a secret credential field of any kind (the change
// log names fields, not kinds): a changed secret is shown "rotated", never its value.
func secretField(name string) bool {
	for _, k := range registry.Kinds() {
		if f, ok := k.Field(name); ok && f.Secret {
			return true
		}
	}
	return false
}

// changeEntry is a Catalog change as an audit line: exactly the fields that changed,
// "(rotated)" for secrets only.
func changeEntry(c registry.Audit) auditEntry {
	var fields []string
	for _, f := range c.Fields {
		if secretField(f) {
			f += " (rotated)"
		}
		fields = append(fields, f)
	}
	detail := ""
	if len(fields) > 0 {
		detail = "changed " + strings.Join(fields, ", ")
	}
	actor := c.Actor
	if actor == "" {
		actor = "(the platform)"
	}
	return auditEntry{At: c.Time, Actor: actor, Action: "registry." + c.Action, Target: c.Name + " (" + c.ID + ")", Detail: detail}
}

// auditEntries is the newest limit entries of both logs, newest first. The Catalog's log
// is read from its start (it has no newest-first read); the entries shown are those the
// user may view (the Catalog's policy).
func (a *app) auditEntries(ctx context.Context, limit int) ([]auditEntry, error) {
	own, err := a.acc.auditLog(ctx, limit)
	if err != nil {
		return nil, err
	}
	changes, err := a.cat.Changes(ctx, 0, 0)
	if err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return nil, err
	}
	out := own
	for _, c := range changes {
		out = append(out, changeEntry(c))
	}
	slices.SortStableFunc(out, func(x, y auditEntry) int { return y.At.Compare(x.At) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// forbiddenText is a refusal in the user's words: the Catalog's reason, else its text.
func forbiddenText(err error) string {
	var fe *catalog.ForbiddenError
	if errors.As(err, &fe) {
		return "You may not " + string(fe.Action) + " " + fe.Registry + ": " + fe.Reason + "."
	}
	return "You may not do that: " + err.Error()
}
