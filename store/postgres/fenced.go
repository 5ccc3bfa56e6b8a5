package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/regcred/regcred/registry"
)

// Fenced returns a view of the store whose record writes (Put, Delete, Rewrite) land only while l's fencing number is the current one: each write runs in a
// transaction that first reads the lease's row FOR SHARE and compares. A new holder's
// acquisition (which updates that row) waits for such a write to finish, and every write
// after it fails with ErrFenced: a deposed leader cannot write, however long it was
// frozen. Reads, Watch and health writes (advisory, never a record) are the store's own.
func (s *Store) Fenced(l *Lease) *FencedStore { return &FencedStore{Store: s, lease: l} }

// FencedStore is a Store whose writes check a lease's fencing number.
type FencedStore struct {
	*Store
	lease *Lease
}

var (
	_ registry.Store    = (*FencedStore)(nil)
	_ registry.Rewriter = (*FencedStore)(nil)
)

// Lease is the lease the writes check.
func (f *FencedStore) Lease() *Lease { return f.lease }

// inFence runs write in a transaction after checking the fence.
func (f *FencedStore) inFence(ctx context.Context, op, id string, write func(pgx.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		var fence int64
		err := tx.QueryRow(ctx, "SELECT fence FROM regcred_leases WHERE name = $1 FOR SHARE", f.lease.name).Scan(&fence)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return &registry.Error{Op: op, Registry: id, Err: fmt.Errorf("lease %q has no fencing number: %w", f.lease.name, ErrFenced)}
		case err != nil:
			return dbError(op, id, err)
		case fence != f.lease.fence:
			return &registry.Error{Op: op, Registry: id, Err: fmt.Errorf("lease %q is at fence %d, this writer holds %d: %w", f.lease.name, fence, f.lease.fence, ErrFenced)}
		}
		return write(tx)
	})
	var re *registry.Error
	if err != nil && !errors.As(err, &re) && ctx.Err() == nil {
		return dbError(op, id, err)
	}
	return err
}

// Put implements registry.Store, fenced.
func (f *FencedStore) Put(ctx context.Context, r registry.Registry) error {
	return f.inFence(ctx, "store put", r.ID, func(tx pgx.Tx) error { return put(ctx, tx, r) })
}

// Delete implements registry.Store, fenced.
func (f *FencedStore) Delete(ctx context.Context, id string, version int64) error {
	return f.inFence(ctx, "store delete", id, func(tx pgx.Tx) error { return del(ctx, tx, id, version) })
}

// Rewrite implements registry.Rewriter, fenced.
func (f *FencedStore) Rewrite(ctx context.Context, r registry.Registry) error {
	return f.inFence(ctx, "store rewrite", r.ID, func(tx pgx.Tx) error { return rewrite(ctx, tx, r) })
}

// String names the store and the lease.
func (f *FencedStore) String() string {
	return "postgres.Fenced{" + f.Store.name + ", " + f.lease.String() + "}"
}

// Format prints String under every verb.
func (f *FencedStore) Format(s fmt.State, _ rune) { fmt.Fprint(s, f.String()) }
