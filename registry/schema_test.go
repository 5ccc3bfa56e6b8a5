package registry_test

import (
	"bytes"
	"encoding/json"
	"html/template"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/regcred/regcred/registry"
)

// TestSchemaJSON: the schema marshals (no func field reaches JSON), decodes back to the
// same data, names every kind with the seeds' type key, and gives every input a label,
// help text and an input type; selects have options.
func TestSchemaJSON(t *testing.T) {
	s := registry.FormSchema()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("json.Marshal(FormSchema()): %v", err)
	}
	var back registry.Schema
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, back, cmpopts.IgnoreFields(registry.Field{}, "Check")); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
	var keys []string
	for _, k := range back.Kinds {
		keys = append(keys, k.Type)
		if got, err := registry.ParseKind(k.Type); err != nil || got != k.Kind {
			t.Errorf("type key %q parses as %q, %v; want %q", k.Type, got, err, k.Kind)
		}
		if k.Label == "" || k.Help == "" {
			t.Errorf("kind %s has no label or help", k.Kind)
		}
		groups := map[string]bool{}
		for _, g := range k.Groups {
			groups[g.Name] = true
		}
		if !groups[registry.GroupMirror] {
			t.Errorf("kind %s has no mirror group", k.Kind)
		}
		names := map[string]bool{}
		for _, f := range k.Fields {
			names[f.Name] = true
			if f.Label == "" || f.Help == "" || f.Type == "" || !groups[f.Group] {
				t.Errorf("%s.%s: label %q help %q type %q group %q", k.Kind, f.Name, f.Label, f.Help, f.Type, f.Group)
			}
			if (f.Type == registry.InputSelect) != (len(f.Options) > 0) {
				t.Errorf("%s.%s: type %s with %d options", k.Kind, f.Name, f.Type, len(f.Options))
			}
			if f.Secret && f.Type != registry.InputPassword && f.Type != registry.InputTextarea {
				t.Errorf("%s.%s is secret but rendered as %s", k.Kind, f.Name, f.Type)
			}
			for _, c := range append(f.RequiredWhen, f.ShowWhen...) {
				if !names[c.Field] && !strings.HasPrefix(c.Field, "mirror.") && c.Field != f.Name {
					// conditions may point forward in the form; checked below
					defer func(k registry.KindSchema, c registry.Condition, f string) {
						if !hasField(k, c.Field) {
							t.Errorf("%s.%s: condition on unknown input %s", k.Kind, f, c.Field)
						}
					}(k, c, f.Name)
				}
			}
		}
		for _, want := range []string{"type", "name", "url", "default", "tls.mode", "tls.caBundle", "tls.systemRoots", "mirror.of"} {
			if !names[want] {
				t.Errorf("kind %s has no %s input", k.Kind, want)
			}
		}
	}
	sort.Strings(keys)
	want := []string{"ACR", "Custom", "Docker", "ECR", "GAR", "GCR", "GHCR", "Harbor", "Kubernetes", "Public", "Quay"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Fatalf("type keys (-want +got):\n%s", diff)
	}
	// The ECR form says in words what goes together.
	ecr := registry.KindECR.Schema()
	if len(ecr.Rules) == 0 || !strings.Contains(ecr.Rules[0].Text, "or neither") {
		t.Errorf("ECR rules: %+v", ecr.Rules)
	}
}

func hasField(k registry.KindSchema, name string) bool {
	for _, f := range k.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

// formTmpl renders a kind's form from the decoded JSON schema alone, as a UI would.
var formTmpl = template.Must(template.New("form").Parse(`<form data-kind="{{.Kind}}">
{{range .Fields}}<label>{{.Label}}{{if .Required}} *{{end}}
{{if eq .Type "select"}}<select name="{{.Name}}">{{range .Options}}<option value="{{.Value}}">{{.Label}}</option>{{end}}</select>
{{else if eq .Type "textarea"}}<textarea name="{{.Name}}" placeholder="{{.Placeholder}}"{{if .Required}} required{{end}}></textarea>
{{else}}<input type="{{.Type}}" name="{{.Name}}" placeholder="{{.Placeholder}}"{{if .Required}} required{{end}}>
{{end}}<small>{{.Help}}</small></label>
{{end}}</form>`))

var controlRE = regexp.MustCompile(`<(input|select|textarea)[^>]* name="([^"]+)"`)

// TestSchemaRendersAndRoundTrips: from the JSON schema a form renders with one control per
// input; filling it from a record (FormValues, plus the secrets the user types again) and
// reading the post back (FromForm) gives the record again, and it validates.
func TestSchemaRendersAndRoundTrips(t *testing.T) {
	b, err := json.Marshal(registry.FormSchema())
	if err != nil {
		t.Fatal(err)
	}
	var s registry.Schema
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	forms := map[registry.Kind]registry.KindSchema{}
	for _, k := range s.Kinds {
		forms[k.Kind] = k
		var buf bytes.Buffer
		if err := formTmpl.Execute(&buf, k); err != nil {
			t.Fatal(err)
		}
		controls := map[string]bool{}
		for _, m := range controlRE.FindAllStringSubmatch(buf.String(), -1) {
			controls[m[2]] = true
		}
		for _, f := range k.Fields {
			if !controls[f.Name] {
				t.Errorf("%s: no control for %s in\n%s", k.Kind, f.Name, buf.String())
			}
		}
	}
	for name, r := range validRecords(t) {
		t.Run(name, func(t *testing.T) {
			r.Default = true
			r.Mirror = nil
			r.Scope = registry.Scope{Teams: []string{"payments", "platform-*"}, Namespaces: []string{"prod-*"}}
			if hasField(forms[r.Kind], "credentialsExpire") {
				r.CredentialsExpire = time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)
			}
			values := r.FormValues()
			for k, v := range values {
				if f, ok := r.Kind.Field(k); ok && f.Secret {
					t.Fatalf("FormValues gives the secret %s back", k)
				}
				if !hasField(forms[r.Kind], k) {
					t.Fatalf("FormValues has %s, which is no input of the form", k)
				}
				_ = v
			}
			for k, v := range r.Fields { // the user types the secrets again
				if r.IsSecretField(k) {
					values[k] = v
				}
			}
			got, err := registry.FromForm(values)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(r, got, cmpopts.EquateEmpty(), cmp.AllowUnexported(registry.Registry{})); diff != "" {
				t.Fatalf("round trip (-want +got):\n%s", diff)
			}
			if err := got.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
	var ve *registry.ValidationError
	// A mirror and the seeds' type key.
	got, err := registry.FromForm(map[string]string{"type": "Harbor", "name": "cache", "url": "harbor.example.com",
		"username": "robot$p+c", "password": "pw", "mirror.of": "docker.io", "mirror.order": "2", "mirror.fallback": "on"})
	if err != nil || got.Kind != registry.KindHarbor || got.Mirror == nil || *got.Mirror != (registry.Mirror{Of: "docker.io", Order: 2, Fallback: true}) {
		t.Fatalf("FromForm mirror: %+v %v", got.Mirror, err)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	// A scope and an expiry as a form posts them; a bad scope entry is a problem of its input.
	got, err = registry.FromForm(map[string]string{"type": "GHCR", "name": "gh", "username": "u", "token": "t",
		"scope.teams": "payments,\n platform-* ,", "credentialsExpire": "2026-12-31"})
	if err != nil || !cmp.Equal(got.Scope.Teams, []string{"payments", "platform-*"}) ||
		!got.CredentialsExpire.Equal(time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)) {
		t.Fatalf("FromForm scope and expiry: %+v %v %v", got.Scope, got.CredentialsExpire, err)
	}
	got.Scope.Namespaces = []string{"prod-["}
	if !asValidation(got.Validate(), &ve) || len(ve.For("scope.namespaces")) != 1 {
		t.Fatalf("a bad scope pattern: %v", got.Validate())
	}
	// Values that cannot be read at all are named.
	_, err = registry.FromForm(map[string]string{"type": "gitlab", "default": "maybe", "mirror.order": "first", "credentialsExpire": "soon"})
	if !asValidation(err, &ve) || len(ve.For("type")) != 1 || len(ve.For("default")) != 1 || len(ve.For("mirror.order")) != 1 || len(ve.For("credentialsExpire")) != 1 {
		t.Fatalf("FromForm of unreadable values: %v", err)
	}
}
