package registryfile

import (
	"errors"
	"fmt"
	"strings"
)

// maxReported bounds how many problems one Decode reports (a file of 10,000 broken entries
// gives a readable answer, not a flood).
const maxReported = 50

// Error is one problem in the registries file. Its text names the file, the line, the
// entry (by name and 1-based position) and the field, and never contains a secret value:
//
//	registries.yaml:7: registry "team" (entry 2): field credentials.passwrod: is not a field of Custom / self-hosted (did you mean "password"? ...)
//
// Decode and Load return every problem they find at once: a single *Error, or an error
// joining several (errors.Join; range over Unwrap() []error, or use errors.As for the
// first). errors.As(err, &fe) with a *registry.FieldError finds the field.
type Error struct {
	File  string // path, or "" for a reader
	Line  int    // 1-based line in the file; 0 when unknown
	Entry int    // 1-based position in the list; 0 for the file as a whole
	Name  string // the entry's name, when it has one
	Err   error  // often a *registry.FieldError
}

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File)
		b.WriteString(": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Entry > 0 {
		if e.Name != "" {
			fmt.Fprintf(&b, "registry %q (entry %d): ", e.Name, e.Entry)
		} else {
			fmt.Fprintf(&b, "entry %d: ", e.Entry)
		}
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Problems returns the problems inside an error from Decode or Load, in file order: the
// *Error values of a joined error, or the error itself.
func Problems(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if e, ok := err.(*Error); ok {
			out = append(out, e)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var e *Error
		if errors.As(err, &e) {
			out = append(out, e)
		}
	}
	walk(err)
	return out
}

// leaves flattens joined errors (Unwrap() []error) into their parts, so a Validate that
// reports one problem or every problem at once is read the same way.
func leaves(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

// join returns nil, the one problem, or the problems joined (at most maxReported, then a
// count of the rest).
func join(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	if len(errs) > maxReported {
		rest := len(errs) - maxReported
		errs = append(errs[:maxReported:maxReported], fmt.Errorf("... and %d more problems", rest))
	}
	return errors.Join(errs...)
}
