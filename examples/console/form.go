package main

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
)

// formView is the add/edit form of one kind, rendered from registry.FormSchema: every
// input with its label, help, value and its own validation errors.
type formView struct {
	Action   string // the URL the form posts to
	Editing  bool
	ID       string
	Version  int64
	Kind     registry.Kind
	Groups   []groupView
	Errors   []string // problems that belong to no input
	Report   *reportView
	ReadOnly bool   // the user may view, not change, this registry
	Note     string // what this type needs beyond its inputs (the ECR permissions)
	Draft    string // the one-time token of the secrets kept server-side (drafts)
	Image    string // the image Test Connection checks
}

type groupView struct {
	Name, Label, Help string
	Fields            []fieldView
}

type fieldView struct {
	Name, ID, Label, Help string
	Type                  string // registry.InputType
	Value                 string
	Placeholder           string
	Required              bool
	Secret                bool
	Stored                bool   // a secret is stored: blank keeps it
	Kept                  bool   // a secret typed into the failed form is kept server-side: blank keeps it
	ShowWhen              string // JSON of the conditions (the script shows/hides), "" when always shown
	Options               []optionView
	Errors                []string
}

type optionView struct {
	Value, Label string
	Selected     bool
}

// inputID turns a schema name into an element id: "tls.mode" -> "f-tls-mode".
func inputID(name string) string { return "f-" + strings.ReplaceAll(name, ".", "-") }

// buildForm renders kind's form with values (schema names to values; a secret value is
// never rendered), the names of stored secrets, and err's field problems. A secret with a
// value in values is marked Kept (the caller keeps it server-side).
func buildForm(kind registry.Kind, values map[string]string, stored map[string]bool, err error) *formView {
	if !kind.Valid() {
		kind = registry.KindDockerHub
	}
	ks := kind.Schema()
	f := &formView{Kind: kind, Note: kindNotes[kind]}
	byGroup := map[string]*groupView{}
	for _, g := range ks.Groups {
		f.Groups = append(f.Groups, groupView{Name: g.Name, Label: g.Label, Help: g.Help})
	}
	for i := range f.Groups {
		byGroup[f.Groups[i].Name] = &f.Groups[i]
	}
	known := map[string]bool{}
	problems := fieldErrors(err)
	for _, fd := range ks.Fields {
		known[fd.Name] = true
		v := fieldView{Name: fd.Name, ID: inputID(fd.Name), Label: fd.Label, Help: fd.Help, Type: string(fd.Type),
			Placeholder: fd.Placeholder, Required: fd.Required, Secret: fd.Secret || fd.Type == registry.InputPassword}
		if v.Secret {
			v.Stored = stored[fd.Name]
			v.Kept = values[fd.Name] != ""
		} else if val, ok := values[fd.Name]; ok {
			v.Value = val
			if fd.Name == "url" || fd.Name == "mirror.of" {
				v.Value = registry.RedactServer(val) // a password typed into a URL never comes back
			}
		} else if values == nil || fd.Name == "tls.mode" {
			v.Value = fd.Default
		}
		if fd.Name == "type" {
			v.Value = string(kind)
		}
		if len(fd.ShowWhen) > 0 {
			b, _ := json.Marshal(fd.ShowWhen)
			v.ShowWhen = string(b)
		}
		for _, o := range fd.Options {
			v.Options = append(v.Options, optionView{Value: o.Value, Label: o.Label, Selected: o.Value == v.Value})
		}
		for _, p := range problems {
			if p.Field == fd.Name {
				v.Errors = append(v.Errors, problemText(p))
			}
		}
		g := byGroup[fd.Group]
		if g == nil {
			g = byGroup[registry.GroupRegistry]
		}
		g.Fields = append(g.Fields, v)
	}
	for _, p := range problems {
		if !known[p.Field] {
			f.Errors = append(f.Errors, p.Field+": "+problemText(p))
		}
	}
	if err != nil && len(problems) == 0 {
		f.Errors = append(f.Errors, err.Error())
	}
	sort.Strings(f.Errors)
	return f
}

func problemText(p *registry.FieldError) string {
	s := p.Reason
	if p.Hint != "" {
		s += ": " + p.Hint
	}
	return s
}

// formValues reads a posted form into schema names to values: only the names of kind's
// schema (a hostile extra input is dropped, not stored as a credential field).
func formValues(kind registry.Kind, get func(string) string) map[string]string {
	out := map[string]string{}
	for _, fd := range kind.Schema().Fields {
		if v := get(fd.Name); v != "" {
			out[fd.Name] = v
		}
	}
	return out
}

// kindNotes say what a type needs beyond its inputs.
var kindNotes = map[registry.Kind]string{
	registry.KindECR:        "The access key's IAM user (or the node's role) needs ecr:GetAuthorizationToken, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer (the AmazonEC2ContainerRegistryReadOnly policy has them). Its tokens last 12 hours; regcred renews them before they expire.",
	registry.KindGCR:        "The service account needs the Storage Object Viewer role (Artifact Registry Reader for Artifact Registry). Its access tokens last 1 hour; regcred renews them.",
	registry.KindGAR:        "The service account needs the Artifact Registry Reader role. Its access tokens last 1 hour; regcred renews them.",
	registry.KindKubernetes: "regcred asks the cluster for the ServiceAccount's tokens (TokenRequest) for the lifetime you set, and renews them before they expire.",
}

// typedSecrets are the secret values of a posted form (to keep across a failed save).
func typedSecrets(kind registry.Kind, values map[string]string) map[string]string {
	out := map[string]string{}
	for _, fd := range kind.Schema().Fields {
		if v := values[fd.Name]; v != "" && (fd.Secret || fd.Type == registry.InputPassword) {
			out[fd.Name] = v
		}
	}
	return out
}

// withKept fills the blank secret inputs of values from the secrets kept for the form.
func withKept(values, kept map[string]string) map[string]string {
	for k, v := range kept {
		if values[k] == "" {
			values[k] = v
		}
	}
	return values
}

// storedSecrets names the secret fields a (redacted) record holds.
func storedSecrets(r registry.Registry) map[string]bool {
	out := map[string]bool{}
	for k, v := range r.Fields {
		if v != "" && r.IsSecretField(k) {
			out[k] = true
		}
	}
	return out
}

// reportView is a connection test as a checklist.
type reportView struct {
	OK      bool
	Outcome string // passed, failed, not tested (conntest.Report.Outcome)
	Name    string
	Steps   []stepView
	Error   string
	// Untested says, for a test that tested nothing, why and what the user can do.
	UntestedCause, UntestedFix string
}

type stepView struct {
	Name, Title, Verdict, Detail, Cause, Fix string
}

func newReportView(rep *conntest.Report) *reportView {
	v := &reportView{OK: rep.OK(), Outcome: string(rep.Outcome()), Name: rep.Registry}
	if u := rep.Untested(); u != nil {
		v.UntestedCause, v.UntestedFix = u.Cause, u.Fix
	} else if !rep.Tested() {
		v.UntestedCause = "the credentials were not tried against the registry"
	}
	for _, s := range rep.Steps {
		v.Steps = append(v.Steps, stepView{Name: string(s.Name), Title: s.Name.Title(), Verdict: string(s.Verdict), Detail: s.Detail, Cause: s.Cause, Fix: s.Fix})
	}
	if f := rep.Failed(); f != nil {
		v.Error = "failed at: " + f.Name.Title()
	}
	return v
}
