package nodeconfig

import (
	"errors"
	"strconv"

	"github.com/regcred/regcred/registry"
)

var (
	// ErrInvalid is registry.ErrInvalid: a record, a mirror, a CA bundle or an existing
	// node file cannot be turned into node configuration.
	ErrInvalid = registry.ErrInvalid
	// ErrTokenKind: a registry whose credentials are short-lived tokens (ECR, GCR/GAR, ACR
	// with a tenant, Kubernetes) cannot be written into a node file, where the token would
	// go stale; configure a credential provider on the node instead.
	ErrTokenKind = errors.New("short-lived token credentials do not belong in a node file")
)

// Error says which registry (or node file) a generation problem is about.
type Error struct {
	Runtime  Runtime
	Registry string // the registry's name, or the node file's path
	Err      error
}

func (e *Error) Error() string {
	s := "node config"
	if e.Runtime != "" {
		s += " for " + string(e.Runtime)
	}
	if e.Registry != "" {
		s += ", " + strconv.Quote(e.Registry)
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrOutsideRoot: a node file or a directory above it is a symlink that leads out of the
// root given to WithRoot, Apply or Diff; nothing is read or written through it.
var ErrOutsideRoot = errors.New("a symlink leads out of the root")
