package registry

import (
	"context"
	"slices"
	"time"
)

// Audit is one entry of a store's change log: who changed which registry, when, how, and
// the names (never the values) of the fields that changed. Catalog writes record one per
// change, in the same transaction as the record where the Store implements Journal.
type Audit struct {
	Seq     uint64    `json:"seq"`              // the store's sequence number: increasing in commit order, from 1
	Time    time.Time `json:"time"`             // when the change was made (UTC)
	Actor   string    `json:"actor,omitempty"`  // the principal's user; "" for a trusted operator
	Action  string    `json:"action"`           // what was done: add, edit, rotate, scope, set-default, unset-default, delete
	ID      string    `json:"id"`               // the registry's ID
	Name    string    `json:"name"`             // the registry's name after the change (before it, for a delete)
	Version int64     `json:"version"`          // the version written, or deleted
	Fields  []string  `json:"fields,omitempty"` // the names of the fields that changed (ChangedFields)
}

// Clone returns a deep copy.
func (a Audit) Clone() Audit {
	a.Fields = slices.Clone(a.Fields)
	return a
}

// Journal is the optional change log of a Store: a write and its Audit entry commit
// together (one transaction in the SQL stores), and Changes lets a consumer resume from
// the last sequence it handled after a restart or a failover, so a notifier loses nothing
// and sends nothing twice.
//
// PutAudited and DeleteAudited follow Put's and Delete's rules exactly and return the
// entry as stored, its Seq set. Changes returns the entries with Seq > since, in Seq
// order, at most limit of them (limit <= 0: all); LastSeq the largest Seq written (0 for
// an empty log), where a new consumer starts. Sequence numbers only grow: an entry
// never appears after one with a larger Seq has been returned. A wrapper (store/sealed)
// over a store without a journal fails with errors.ErrUnsupported; the caller then
// writes without one.
type Journal interface {
	PutAudited(ctx context.Context, r Registry, a Audit) (Audit, error)
	DeleteAudited(ctx context.Context, id string, version int64, a Audit) (Audit, error)
	Changes(ctx context.Context, since uint64, limit int) ([]Audit, error)
	LastSeq(ctx context.Context) (uint64, error)
}

// ChangedFields names what differs between two versions of a record: "name", "kind",
// "url", "tls", "default", "owner", "mirror", "scope", "credentialsExpire", then each
// credential field (by its schema name) whose value differs, sorted. Values are compared,
// never returned: a rotated password is named "password" and nothing else.
func ChangedFields(before, after Registry) []string {
	var out []string
	add := func(name string, changed bool) {
		if changed {
			out = append(out, name)
		}
	}
	add("name", before.Name != after.Name)
	add("kind", before.Kind != after.Kind)
	add("url", before.Server != after.Server)
	add("tls", before.TLS != after.TLS)
	add("default", before.Default != after.Default)
	add("owner", before.Owner != after.Owner)
	add("mirror", !mirrorEqual(before.Mirror, after.Mirror))
	add("scope", !scopeEqual(before.Scope, after.Scope))
	add("credentialsExpire", !before.CredentialsExpire.Equal(after.CredentialsExpire))
	return append(out, changedCredentials(before, after)...)
}

// changedCredentials names the credential fields whose values differ, sorted.
func changedCredentials(before, after Registry) []string {
	var fields []string
	for n, v := range before.Fields {
		if after.Fields[n] != v {
			fields = append(fields, n)
		}
	}
	for n, v := range after.Fields {
		if _, ok := before.Fields[n]; !ok && v != "" {
			fields = append(fields, n)
		}
	}
	slices.Sort(fields)
	return fields
}

// Rotated reports whether the change from before to after changed a secret: the kind, or
// a field that is secret in either version.
func Rotated(before, after Registry) bool {
	if before.Kind != after.Kind {
		return true
	}
	return slices.ContainsFunc(changedCredentials(before, after), func(n string) bool {
		return before.IsSecretField(n) || after.IsSecretField(n)
	})
}

func mirrorEqual(a, b *Mirror) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func scopeEqual(a, b Scope) bool {
	return slices.Equal(a.Teams, b.Teams) && slices.Equal(a.Projects, b.Projects) && slices.Equal(a.Namespaces, b.Namespaces)
}
