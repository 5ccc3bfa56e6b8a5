package dockerconfig

import (
	"strconv"

	"github.com/regcred/regcred/registry"
)

// FormatError says what is wrong with a docker config document: which entry, which field,
// what. Its text never contains a credential. errors.Is(err, registry.ErrInvalid) holds.
type FormatError struct {
	Op     string // "decode" or "encode"
	Key    string // the auths (or legacy top-level) key of the entry; "" for the document
	Field  string // "auth", "username", "auths", "credHelpers", ...; "" for the document
	Reason string // what is wrong and, where it helps, what to do
	Offset int64  // byte offset of a JSON syntax error; 0 otherwise
}

func (e *FormatError) Error() string {
	s := e.Op
	if e.Key != "" {
		s += " entry " + strconv.Quote(e.Key)
	}
	if e.Field != "" {
		s += " field " + strconv.Quote(e.Field)
	}
	return s + ": " + e.Reason
}

// Is makes errors.Is(err, registry.ErrInvalid) true.
func (e *FormatError) Is(target error) bool { return target == registry.ErrInvalid }
