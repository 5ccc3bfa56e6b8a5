package registry

import "context"

// ChangeOp says what happened to a stored record.
type ChangeOp uint8

// The change operations.
const (
	// ChangePut: the record was created or replaced.
	ChangePut ChangeOp = iota + 1
	// ChangeDelete: the record was deleted.
	ChangeDelete
	// ChangeResync: the feed may have missed changes (a dropped connection, a file
	// rewritten from outside, a consumer that fell behind): reload everything.
	ChangeResync
)

func (op ChangeOp) String() string {
	switch op {
	case ChangePut:
		return "put"
	case ChangeDelete:
		return "delete"
	case ChangeResync:
		return "resync"
	}
	return "unknown"
}

// Change is one entry of a Store's change feed. It never carries a secret.
type Change struct {
	Op      ChangeOp
	ID      string // the record's ID; "" for ChangeResync
	Version int64  // the version written (ChangePut) or deleted (ChangeDelete)
}

// Watcher is the optional change feed of a Store: implemented by stores that can report
// changes made through any handle on the same data (another Catalog, another process,
// another replica). A Catalog over a Store that implements it sees those changes without
// Invalidate; a Store that does not keeps working, and the platform calls Invalidate.
//
// Watch returns a channel that receives every change committed after Watch returns, in
// commit order, until ctx is done; then the channel is closed. A consumer that falls
// behind gets a ChangeResync instead of blocking writers. Watch is safe for concurrent
// use; each call is an independent subscription.
type Watcher interface {
	Watch(ctx context.Context) (<-chan Change, error)
}
