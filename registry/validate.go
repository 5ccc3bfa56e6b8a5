package registry

import (
	"sort"
	"strings"

	"github.com/regcred/regcred/internal/suggest"

	"github.com/regcred/regcred/internal/untrusted"
)

// ValidationError is every problem Validate found in a record, each a *FieldError naming
// its input as the schema does (Kind.Schema), so a form can show each under its input.
// Problems come in form order, after the fields the kind does not have (a typo there
// often explains a "required" below it). errors.Is(err, ErrInvalid) holds, and errors.As
// to a *FieldError gives the first problem.
type ValidationError struct {
	Errors []*FieldError // at least one
}

// Error lists the problems, one after the other.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		parts[i] = fe.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns the problems, for errors.As and errors.Is.
func (e *ValidationError) Unwrap() []error {
	out := make([]error, len(e.Errors))
	for i, fe := range e.Errors {
		out[i] = fe
	}
	return out
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// For returns the problems of one input (a schema name: "url", "password", "tls.caBundle").
func (e *ValidationError) For(field string) []*FieldError {
	var out []*FieldError
	for _, fe := range e.Errors {
		if fe.Field == field {
			out = append(out, fe)
		}
	}
	return out
}

// Validate checks the record against its kind's schema: a known kind, a name, a server that
// parses (or a kind that implies one), every required field present (and every field
// required by another one's value, Field.RequiredWhen), every field known and passing its
// check, a coherent TLS mode, a well-formed scope and, for a mirror, a well-formed upstream. It returns nil or a
// *ValidationError with every problem at once (see there for the order).
//
// No message quotes the value of a credential field: a secret pasted into the wrong input
// must not come back in an API response or a log.
func (r Registry) Validate() error {
	var v validation
	if !r.Kind.Valid() {
		_, err := ParseKind(string(r.Kind))
		v.add(err)
	}
	if strings.TrimSpace(r.Name) == "" {
		v.add(&FieldError{Field: "name", Reason: "is empty", Hint: "give the registry a name to show in lists"})
	}
	if !r.Kind.Valid() {
		return v.result(r.Kind) // the kind decides every other field
	}
	v.unknownFields(r)

	// url: the record's own server; without one, the kind's default (which can only fail
	// through a field already reported below).
	var srv Server
	srvOK := false
	switch {
	case r.Server == "" && r.Kind.NeedsServer():
		v.add(&FieldError{Field: "url", Reason: "is required for " + r.Kind.Label(), Hint: "give the registry host, e.g. registry.example.com"})
	case r.Server == "":
		srv, srvOK = r.serverOK()
	default:
		s, err := ParseServer(r.Server)
		if err != nil {
			v.add(err)
			break
		}
		srv, srvOK = s, true
		if r.Kind == KindACR && !s.Wildcard && r.Fields["loginServer"] != "" && s.Host != strings.ToLower(r.Fields["loginServer"]) {
			v.add(&FieldError{Field: "url", Reason: "differs from loginServer", Hint: "leave url empty; the login server is the registry's host"})
		}
	}
	if srvOK && srv.Wildcard && r.Kind != KindECR && r.Kind != KindACR && r.Kind != KindCustom {
		v.add(&FieldError{Field: "url", Reason: "a wildcard host is only allowed for ECR, ACR and custom registries"})
	}

	values := func(name string) string { return r.Fields[name] }
	for _, f := range kindFields[r.Kind] {
		val := r.Fields[f.Name]
		if val == "" {
			switch {
			case f.Required:
				v.add(&FieldError{Field: f.Name, Reason: "is required for " + r.Kind.Label(), Hint: f.Help})
			case len(f.RequiredWhen) > 0:
				for _, c := range f.RequiredWhen {
					if c.holds(values) {
						v.add(&FieldError{Field: f.Name, Reason: "is required when " + c.Field + " is given", Hint: r.Kind.ruleText(f.Name)})
						break
					}
				}
			}
			continue
		}
		if f.Check != nil {
			v.add(f.Check(val))
		}
	}

	v.add(r.TLS.validate(srv)) // srv is zero when the url failed: the TLS inputs are still checked
	v.add(r.Scope.Validate())
	if r.Mirror != nil && srvOK {
		v.add(r.Mirror.validate(srv))
	}
	return v.result(r.Kind)
}

// serverOK is ServerInfo when it succeeds.
func (r Registry) serverOK() (Server, bool) {
	s, err := r.ServerInfo()
	return s, err == nil
}

// unknownFields reports the fields the kind does not have, sorted, each with the field it
// was likely meant to be.
func (v *validation) unknownFields(r Registry) {
	names := make([]string, 0, len(r.Fields))
	for name := range r.Fields {
		if _, ok := r.Kind.Field(name); !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		hint := "this kind has no credential fields"
		if fs := r.Kind.fieldNames(); len(fs) > 0 {
			hint = "known fields: " + strings.Join(fs, ", ")
			if near := nearest(name, fs); near != "" {
				hint = "did you mean " + near + "? " + hint
			}
		}
		v.unknown = append(v.unknown, &FieldError{Field: untrusted.Limit(name, maxQuoted), Reason: "is not a field of " + r.Kind.Label(), Hint: hint})
	}
}

// validation collects the problems of one record.
type validation struct {
	unknown []*FieldError // fields the kind does not have: reported first
	errs    []*FieldError
}

// add records err: a *FieldError, a *ValidationError, or nil.
func (v *validation) add(err error) {
	switch e := err.(type) {
	case nil:
	case *FieldError:
		v.errs = append(v.errs, e)
	case *ValidationError:
		v.errs = append(v.errs, e.Errors...)
	default:
		v.errs = append(v.errs, &FieldError{Field: "", Reason: e.Error()})
	}
}

// result orders the problems (unknown fields, then form order) and returns them, or nil.
func (v *validation) result(k Kind) error {
	if len(v.unknown)+len(v.errs) == 0 {
		return nil
	}
	order := map[string]int{}
	for i, name := range k.formOrder() {
		order[name] = i
	}
	rank := func(fe *FieldError) int {
		if i, ok := order[fe.Field]; ok {
			return i
		}
		return len(order)
	}
	sort.SliceStable(v.errs, func(i, j int) bool { return rank(v.errs[i]) < rank(v.errs[j]) })
	return &ValidationError{Errors: append(v.unknown, v.errs...)}
}

// Problems gathers the problems of a record read at the edge (a request body, a file
// entry) so that every one is reported at once, ordered as Validate orders them: fields
// that are not fields first, then the kind's form order. The zero value is ready.
type Problems struct{ v validation }

// Add records err: a *FieldError, a *ValidationError (each of its problems), or nil.
func (p *Problems) Add(err error) { p.v.add(err) }

// Unknown records a key that is not a field, reported before the others.
func (p *Problems) Unknown(fe *FieldError) { p.v.unknown = append(p.v.unknown, fe) }

// Len is how many problems were recorded.
func (p *Problems) Len() int { return len(p.v.unknown) + len(p.v.errs) }

// Err returns the problems as one *ValidationError in the form order of kind k, or nil.
func (p *Problems) Err(k Kind) error { return p.v.result(k) }

// nearest returns the name in names a typo s was most likely meant to be, or "": the one
// "did you mean" rule, internal/suggest, that the registries file uses too.
func nearest(s string, names []string) string { return suggest.Nearest(s, names) }
