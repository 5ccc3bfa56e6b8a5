package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The JSON forms of a Registry.
//
// encoding/json (json.Marshal, slog's JSON handler, an API response) writes the redacted
// view: secret fields read Redacted and the object carries "redacted": true, so a record
// nested anywhere in a logged or served value never leaks. Decoding reads the fields as
// they are and keeps the mark: a record decoded from a redacted view is redacted again.
//
// Stores need the real values: MarshalStored and UnmarshalStored are the one explicit
// codec that reveals. MarshalStored refuses a redacted record (ErrRedacted), so a store
// can never save Redacted over a real secret.

// storedForm is a Registry without its methods: encoding/json writes every field as it is.
type storedForm Registry

// redactedForm is the JSON view of a redacted record.
type redactedForm struct {
	storedForm
	Redacted bool `json:"redacted,omitempty"`
}

// MarshalJSON writes the redacted view with "redacted": true.
func (r Registry) MarshalJSON() ([]byte, error) {
	return json.Marshal(redactedForm{storedForm: storedForm(r.Redacted()), Redacted: true})
}

// UnmarshalJSON reads a record as sent (a form, an API body, a redacted view). A body that
// says "redacted": true gives a record that IsRedacted: Catalog.Update keeps the stored
// value of its secret fields that read Redacted, and adapters refuse it.
func (r *Registry) UnmarshalJSON(data []byte) error {
	var f redactedForm
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	*r = Registry(f.storedForm)
	r.redacted = f.Redacted
	_ = r.ParseServer() // a server that does not parse is Validate's to report
	return nil
}

// MarshalStored encodes r with its real secret values, for a Store. It fails with
// ErrRedacted when r is a redacted view.
func MarshalStored(r Registry) ([]byte, error) {
	if r.redacted {
		return nil, &Error{Op: "encode record", Registry: r.ID, Err: ErrRedacted}
	}
	return json.Marshal(storedForm(r))
}

// UnmarshalStored decodes what MarshalStored wrote. Unknown keys are an error (a file
// from a newer version, or not a store at all), and so is a redacted view.
func UnmarshalStored(data []byte) (Registry, error) {
	var f redactedForm
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Registry{}, &Error{Op: "decode record", Err: fmt.Errorf("not a stored registry record (%v): %w", err, ErrInvalid)}
	}
	if f.Redacted {
		return Registry{}, &Error{Op: "decode record", Registry: f.ID, Err: fmt.Errorf("the stored record is a redacted view: %w", ErrRedacted)}
	}
	r := Registry(f.storedForm)
	_ = r.ParseServer() // a server that does not parse is Validate's to report
	return r, nil
}
