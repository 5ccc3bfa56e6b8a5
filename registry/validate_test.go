package registry_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/registry"
)

// TestValidateReportsEveryProblem: Validate returns every problem of a record at once,
// fields the kind does not have first (with the field they were likely meant to be), then
// in form order; errors.Is(ErrInvalid) and errors.As to the first *FieldError still work.
func TestValidateReportsEveryProblem(t *testing.T) {
	r := registry.Registry{Name: " ", Kind: registry.KindECR, TLS: registry.TLS{Mode: registry.TLSCustomCA},
		Fields: map[string]string{
			"region":         "EU WEST",
			"accessKeyId":    testAccessKey,
			"secretAcessKey": testSecretKey, // a typo: the real field is then missing
			"roleArn":        "arn:aws:iam::12:role/x",
		}}
	err := r.Validate()
	var ve *registry.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate = %v (%T), want a *ValidationError", err, err)
	}
	var got []string
	for _, fe := range ve.Errors {
		got = append(got, fe.Field)
	}
	want := []string{"secretAcessKey", "name", "region", "secretAccessKey", "roleArn", "tls.caBundle"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("problems (-want +got):\n%s\n%v", diff, err)
	}
	if !strings.Contains(ve.Errors[0].Hint, "did you mean secretAccessKey?") {
		t.Errorf("the typo's hint %q does not name the field it was meant to be", ve.Errors[0].Hint)
	}
	if !errors.Is(err, registry.ErrInvalid) {
		t.Error("errors.Is(err, ErrInvalid) is false")
	}
	var fe *registry.FieldError
	if !errors.As(err, &fe) || fe != ve.Errors[0] {
		t.Errorf("errors.As gives %v, want the first problem", fe)
	}
	if len(ve.For("region")) != 1 || len(ve.For("url")) != 0 {
		t.Errorf("For: region %v, url %v", ve.For("region"), ve.For("url"))
	}
	if !strings.HasPrefix(err.Error(), "field secretAcessKey: ") || strings.Count(err.Error(), "; field ") != len(want)-1 {
		t.Errorf("message %q", err.Error())
	}
	if strings.Contains(err.Error(), testSecretKey) {
		t.Error("the message holds the secret")
	}
	// A single problem is a *ValidationError too, reading as the problem itself.
	err = registry.Registry{Name: "x", Kind: registry.KindGHCR, Fields: map[string]string{"username": "u"}}.Validate()
	if !errors.As(err, &ve) || len(ve.Errors) != 1 || err.Error() != ve.Errors[0].Error() {
		t.Fatalf("one problem: %v", err)
	}
	// An unknown kind: the type and the name, nothing about fields it cannot know.
	err = registry.Registry{Kind: "gitlab", Fields: map[string]string{"token": "x"}}.Validate()
	if !errors.As(err, &ve) || len(ve.Errors) != 2 || ve.Errors[0].Field != "type" || ve.Errors[1].Field != "name" {
		t.Fatalf("unknown kind: %v", err)
	}
}

// TestValidationNeverQuotesCredentialValues: a secret pasted into the wrong input comes
// back in no message: region, loginServer, serviceAccount, tenant, roleArn, the token
// lifetime and the key's type are named, not quoted. Values that are quoted (a url's host
// or path, a registry type) are bounded and escaped.
func TestValidationNeverQuotesCredentialValues(t *testing.T) {
	v := validRecords(t)
	const pasted = "ghp_S3cr3tT0k3nPastedInTheWrongBox"
	cases := map[string]registry.Registry{
		"ecr region":        with(v["ecr chain"], setField("region", pasted)),
		"gar region":        with(v["gar"], setField("region", pasted)),
		"acr loginServer":   with(v["acr"], setField("loginServer", pasted)),
		"acr tenant":        with(v["acr"], setField("tenant", pasted)),
		"serviceAccount":    with(v["kubernetes"], setField("serviceAccount", pasted)),
		"expirationSeconds": with(v["kubernetes"], setField("expirationSeconds", pasted)),
		"roleArn":           with(v["ecr keys"], setField("roleArn", pasted)),
		"accessKeyId":       with(v["ecr keys"], setField("accessKeyId", pasted)),
		"username":          with(v["dockerhub"], setField("username", " "+pasted)),
		"sa key type":       with(v["gcr"], setField("serviceAccountKey", saKeyWith(t, map[string]string{"type": pasted}))),
	}
	for name, r := range cases {
		err := r.Validate()
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		if strings.Contains(err.Error(), pasted) || strings.Contains(err.Error(), "S3cr3t") {
			t.Errorf("%s: the value comes back in %q", name, err)
		}
	}
	// A Google credential type that is not a service account is named: it helps, and it is
	// one of a few fixed words.
	err := with(v["gcr"], setField("serviceAccountKey", saKeyWith(t, map[string]string{"type": "authorized_user"}))).Validate()
	if err == nil || !strings.Contains(err.Error(), "authorized_user") {
		t.Errorf("authorized_user key: %v", err)
	}

	// Quoted values are bounded and escaped.
	hostile := map[string]registry.Registry{
		"url host":  with(v["custom"], func(r *registry.Registry) { r.Server = "reg\x1b]0;pwned\x07.example.com" }),
		"url path":  with(v["custom"], func(r *registry.Registry) { r.Server = "registry.example.com/" + strings.Repeat("A", 10000) }),
		"type":      with(v["custom"], func(r *registry.Registry) { r.Kind = registry.Kind("\x1b[2J" + strings.Repeat("x", 10000)) }),
		"field key": with(v["custom"], setField("pass\x1b[31mword"+strings.Repeat("y", 10000), "x")),
	}
	for name, r := range hostile {
		err := r.Validate()
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		msg := err.Error()
		if strings.ContainsAny(msg, "\x1b\x07") || len(msg) > 1000 {
			t.Errorf("%s: message not escaped or not bounded (%d bytes): %q", name, len(msg), msg[:min(len(msg), 200)])
		}
	}
}

// TestRequiredWhenMatchesValidate: every conditional requirement the schema announces
// (Field.RequiredWhen) is one Validate enforces, on the input the schema names.
func TestRequiredWhenMatchesValidate(t *testing.T) {
	v := validRecords(t)
	base := map[registry.Kind]registry.Registry{}
	for _, r := range v {
		if _, ok := base[r.Kind]; !ok || r.Server != "" && !strings.Contains(r.Server, "http") {
			base[r.Kind] = r
		}
	}
	base[registry.KindECR] = v["ecr chain"]
	base[registry.KindCustom] = v["custom anonymous"]
	checked := 0
	for _, k := range registry.Kinds() {
		for _, f := range k.Schema().Fields {
			for _, c := range f.RequiredWhen {
				values := base[k].FormValues()
				for name, val := range base[k].Fields { // FormValues leaves secrets out
					values[name] = val
				}
				delete(values, f.Name)
				if c.Set {
					values[c.Field] = conditionValue(t, c.Field)
				} else {
					values[c.Field] = c.Equals
				}
				r, err := registry.FromForm(values)
				if err != nil {
					t.Fatalf("%s %s: FromForm: %v", k, f.Name, err)
				}
				var ve *registry.ValidationError
				if err := r.Validate(); !errors.As(err, &ve) || len(ve.For(f.Name)) == 0 {
					t.Errorf("%s: %s given, %s empty: Validate = %v, want a problem for %s", k, c.Field, f.Name, err, f.Name)
				}
				checked++
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d conditions checked", checked)
	}
}

func conditionValue(t *testing.T, field string) string {
	switch field {
	case "accessKeyId":
		return testAccessKey
	case "secretAccessKey":
		return testSecretKey
	case "mirror.order":
		return "1"
	case "mirror.fallback":
		return "true"
	}
	return "x"
}

func asValidation(err error, ve **registry.ValidationError) bool { return errors.As(err, ve) }
