package registry

import "context"

// Rewriter is the optional part of a Store that replaces a record's stored form without
// a new version: the same content written again in another form (a re-seal under a new
// key, a migration of the encoding). The caller promises the content is unchanged, so the
// Store emits no change on its feed and no cache anywhere is flushed.
//
// Rewrite fails with ErrConflict unless r.Version is the stored version (a write landed
// in between: read again and retry), with ErrNotFound when there is no record r.ID, and
// with ErrRedacted for a redacted view. It keeps the record's health.
type Rewriter interface {
	Rewrite(ctx context.Context, r Registry) error
}

// CheckRewrite applies the rules of Rewriter.Rewrite given the stored record.
func CheckRewrite(r Registry, cur Registry, ok bool) error {
	if err := CheckWrite("store rewrite", r); err != nil {
		return err
	}
	switch {
	case !ok:
		return &Error{Op: "store rewrite", Registry: r.ID, Err: ErrNotFound}
	case cur.Version != r.Version:
		return &Error{Op: "store rewrite", Registry: r.ID, Err: &VersionError{Stored: cur.Version, Expected: r.Version}}
	}
	return nil
}
