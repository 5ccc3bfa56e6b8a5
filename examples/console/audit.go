package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
)

// secretPrints are SHA-256 sums of a record's secret fields, by name: enough to tell
// whether a save changed a secret, never the secret. They live for one request.
type secretPrints map[string][32]byte

// prints reads the record's secrets from the console's own store (server-side only, for
// the audit: the user's principal may not be allowed Reveal) and keeps their sums. A
// record that cannot be read has none.
func (a *app) prints(ctx context.Context, id string) secretPrints {
	full, err := a.records.Get(ctx, id)
	if err != nil {
		return nil
	}
	out := secretPrints{}
	for k, v := range full.Fields {
		if isSecret(full.Kind, k) && v != "" {
			out[k] = sha256.Sum256([]byte(v))
		}
	}
	return out
}

// isSecret reports whether name is a secret credential field of kind (Registry.
// IsSecretField counts every name outside the credentials as secret).
func isSecret(kind registry.Kind, name string) bool {
	f, ok := kind.Field(name)
	return ok && f.Secret
}

// changes names exactly what an update changed, by input name: the plain fields whose
// value differs and, marked "(rotated)", the secret fields whose value differs (set,
// replaced or cleared). It never holds a value.
func changes(before, after registry.Registry, pb, pa secretPrints) []string {
	b, a := before.FormValues(), after.FormValues()
	var out []string
	for _, k := range slices.Sorted(maps.Keys(union(b, a))) {
		if isSecret(before.Kind, k) || isSecret(after.Kind, k) {
			continue
		}
		if b[k] != a[k] {
			out = append(out, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(union(pb, pa))) {
		if pb[k] != pa[k] {
			out = append(out, k+" (rotated)")
		}
	}
	return out
}

func union[V any](ms ...map[string]V) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			out[k] = true
		}
	}
	return out
}

// changeDetail is the audit detail of an update.
func changeDetail(changed []string) string {
	if len(changed) == 0 {
		return "no change"
	}
	return "changed " + strings.Join(changed, ", ")
}

// update saves an edit through the Catalog and writes the audit entry naming exactly what
// changed and who changed it.
func (a *app) update(ctx context.Context, cur, edit registry.Registry, via string, opts ...registry.MergeOption) (registry.Registry, error) {
	before := a.prints(ctx, cur.ID)
	saved, err := a.cat.Update(ctx, edit, opts...)
	if err != nil {
		return saved, err
	}
	a.audit(ctx, currentUser(ctx).Name, "registry.update", saved.Name+" ("+saved.ID+")", via+changeDetail(changes(cur, saved, before, a.prints(ctx, saved.ID))))
	return saved, nil
}

// forbiddenText is a refusal in the user's words: the Catalog's reason, else its text.
func forbiddenText(err error) string {
	var fe *catalog.ForbiddenError
	if errors.As(err, &fe) {
		return "You may not " + string(fe.Action) + " " + fe.Registry + ": " + fe.Reason + "."
	}
	return "You may not do that: " + err.Error()
}
