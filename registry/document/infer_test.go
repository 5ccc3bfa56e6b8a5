package document_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/document"
)

func TestInferKind(t *testing.T) {
	for _, tc := range []struct {
		url    string
		want   registry.Kind
		fields map[string]string
	}{
		{"docker.io", registry.KindDockerHub, nil},
		{"https://index.docker.io/v1/", registry.KindDockerHub, nil},
		{"registry-1.docker.io", registry.KindDockerHub, nil},
		{"ghcr.io", registry.KindGHCR, nil},
		{"ghcr.io/myorg", registry.KindGHCR, nil},
		{"quay.io", registry.KindQuay, nil},
		{"myregistry.azurecr.io", registry.KindACR, map[string]string{"loginServer": "myregistry.azurecr.io"}},
		{"*.azurecr.io", registry.KindACR, nil},
		{"123456789012.dkr.ecr.eu-west-3.amazonaws.com", registry.KindECR, map[string]string{"region": "eu-west-3"}},
		{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", registry.KindECR, map[string]string{"region": "us-gov-west-1"}},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", registry.KindECR, map[string]string{"region": "cn-north-1"}},
		{"123456789012.dkr-ecr.eu-west-1.on.aws", registry.KindECR, map[string]string{"region": "eu-west-1"}},
		{"*.dkr.ecr.*.amazonaws.com", registry.KindECR, nil},
		{"public.ecr.aws", registry.KindECR, map[string]string{"region": "us-east-1"}},
		{"ecr-public.aws.com", registry.KindECR, map[string]string{"region": "us-east-1"}},
		{"gcr.io", registry.KindGCR, nil},
		{"eu.gcr.io", registry.KindGCR, nil},
		{"europe-west1-docker.pkg.dev", registry.KindGAR, map[string]string{"region": "europe-west1"}},
		{"us-docker.pkg.dev/my-project", registry.KindGAR, map[string]string{"region": "us"}},
		{"registry.mycompany.com", registry.KindCustom, nil},
		{"harbor.example.com:8443", registry.KindCustom, nil},
		// Look-alikes are Custom: a China region under .amazonaws.com, no account, a
		// subdomain of ghcr.io.
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com", registry.KindCustom, nil},
		{"dkr.ecr.eu-west-1.amazonaws.com", registry.KindCustom, nil},
		{"evil.ghcr.io.example.com", registry.KindCustom, nil},
		{"docker.io.example.com", registry.KindCustom, nil},
	} {
		k, f, err := document.InferKind(tc.url)
		if err != nil || k != tc.want || !maps.Equal(f, tc.fields) {
			t.Errorf("InferKind(%q) = %s %v %v, want %s %v", tc.url, k, f, err, tc.want, tc.fields)
		}
	}
	if _, _, err := document.InferKind("ftp://x"); err == nil {
		t.Error("a URL that does not parse: no error")
	}
}

// The documents' three registries (seeds 000 and 001) become records of their kinds, the
// flat password in GHCR's token field; an explicit type wins over the host.
func TestFromDocument(t *testing.T) {
	for _, tc := range []struct {
		doc      document.Document
		kind     registry.Kind
		fields   map[string]string
		inferred bool
	}{
		{document.Document{Name: "Docker Hub", URL: "docker.io", Username: "myuser", Password: "dckr_pat_xxxxx"},
			registry.KindDockerHub, map[string]string{"username": "myuser", "password": "dckr_pat_xxxxx"}, true},
		{document.Document{Name: "GitHub Registry", URL: "ghcr.io", Username: "my-github-user", Password: "ghp_xxxxxxxxxxxx"},
			registry.KindGHCR, map[string]string{"username": "my-github-user", "token": "ghp_xxxxxxxxxxxx"}, true},
		{document.Document{Name: "Private Registry", URL: "registry.mycompany.com", Username: "admin", Password: "secretpassword"},
			registry.KindCustom, map[string]string{"username": "admin", "password": "secretpassword"}, true},
		{document.Document{Name: "Harbor", Type: "harbor", URL: "registry.mycompany.com", Username: "robot$x", Password: "s"},
			registry.KindHarbor, map[string]string{"username": "robot$x", "password": "s"}, false},
		{document.Document{Name: "quay as custom", Type: "Custom", URL: "quay.io", Username: "u", Password: "p"},
			registry.KindCustom, map[string]string{"username": "u", "password": "p"}, false},
		{document.Document{Name: "ECR", URL: "123456789012.dkr.ecr.eu-west-3.amazonaws.com", Username: "AKIAIOSFODNN7EXAMPLE", Password: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
			registry.KindECR, map[string]string{"region": "eu-west-3", "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}, true},
		{document.Document{Name: "ACR", URL: "myregistry.azurecr.io", Username: "app-id", Password: "s"},
			registry.KindACR, map[string]string{"loginServer": "myregistry.azurecr.io", "username": "app-id", "password": "s"}, true},
	} {
		r, inf, err := document.FromDocument(tc.doc)
		if err != nil {
			t.Errorf("%s: %v", tc.doc.Name, err)
			continue
		}
		if r.Kind != tc.kind || !maps.Equal(r.Fields, tc.fields) || r.Server != tc.doc.URL {
			t.Errorf("%s: kind %s fields %v server %q, want %s %v", tc.doc.Name, r.Kind, r.Redacted().Fields, r.Server, tc.kind, tc.fields)
		}
		if (inf != nil) != tc.inferred || inf != nil && inf.Kind != tc.kind {
			t.Errorf("%s: inference %v, want inferred=%v", tc.doc.Name, inf, tc.inferred)
		}
	}
}

// A document that is wrong in several ways gets every problem at once, named as the
// document names the fields, and never quoting a secret.
func TestFromDocumentProblems(t *testing.T) {
	for _, tc := range []struct {
		doc  document.Document
		want []string // fields, in order
	}{
		{document.Document{URL: "ghcr.io"}, []string{"name", "username", "password"}},
		{document.Document{Name: "x", Username: "u", Password: "p"}, []string{"type"}},
		{document.Document{Name: "x", URL: "ftp://host"}, []string{"url"}},
		{document.Document{Name: "x", Type: "nonsense", URL: "ghcr.io"}, []string{"type"}},
		{document.Document{Name: "x", URL: "gcr.io", Username: "me", Password: "not-json-secret"}, []string{"username", "password"}},
		{document.Document{Name: "x", Type: "public", URL: "docker.io", Password: "p4ss"}, []string{"password"}},
		{document.Document{Name: "x", URL: "registry.example.com", Username: "admin"}, []string{"password"}},
	} {
		_, _, err := document.FromDocument(tc.doc)
		var ve *registry.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("%+v: err = %v, want a *ValidationError", tc.doc.Name, err)
			continue
		}
		var got []string
		for _, fe := range ve.Errors {
			got = append(got, fe.Field)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%q %q: problems %q (%v), want %q", tc.doc.Name, tc.doc.URL, got, err, tc.want)
		}
		for _, secret := range []string{"not-json-secret", "p4ss"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error quotes a secret: %v", err)
			}
		}
	}
}

// Decode reads both shapes; what was inferred is said; a body that is neither gets
// every problem at once, and no value of the body comes back in an error.
func TestDecodeJSON(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		kind       registry.Kind
		fields     map[string]string
		inferred   bool
	}{
		{"documents' shape", `{"name":"GitHub Registry","url":"ghcr.io","username":"my-github-user","password":"ghp_x"}`,
			registry.KindGHCR, map[string]string{"username": "my-github-user", "token": "ghp_x"}, true},
		{"documents' shape, type given", `{"name":"h","type":"Harbor","url":"ghcr.io","username":"u","password":"p"}`,
			registry.KindHarbor, map[string]string{"username": "u", "password": "p"}, false},
		{"documents' shape, blank password", `{"name":"h","url":"quay.io","username":"org+bot"}`,
			registry.KindQuay, map[string]string{"username": "org+bot"}, true},
		{"ours", `{"name":"c","kind":"custom","server":"r.example","fields":{"username":"u","password":"p"}}`,
			registry.KindCustom, map[string]string{"username": "u", "password": "p"}, false},
		{"ours without kind", `{"name":"a","server":"myreg.azurecr.io","fields":{"username":"u","password":"p"}}`,
			registry.KindACR, map[string]string{"loginServer": "myreg.azurecr.io", "username": "u", "password": "p"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, inf, err := document.Decode(strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tc.kind || !maps.Equal(r.Fields, tc.fields) || (inf != nil) != tc.inferred {
				t.Fatalf("kind %s fields %v inferred %v", r.Kind, r.Redacted().Fields, inf)
			}
		})
	}
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"neither", `{"name":"x","user":"me","pasword":"hunter2","credentails":{}}`, []string{"credentails", "pasword", "user", "kind"}},
		{"a mix", `{"name":"x","kind":"custom","url":"r.example","password":"hunter2"}`, []string{"url"}},
		{"no url", `{"name":"x","username":"u","password":"hunter2"}`, []string{"type"}},
		{"bad type", `{"name":"x","url":"ghcr.io","default":"hunter2"}`, []string{"default"}},
		{"not JSON", `hunter2`, []string{"(body)"}},
		{"flat password on public", `{"name":"x","type":"public","password":"hunter2"}`, []string{"password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := document.Decode(strings.NewReader(tc.body))
			var ve *registry.ValidationError
			var fe *registry.FieldError
			var got []string
			switch {
			case errors.As(err, &ve):
				for _, fe := range ve.Errors {
					got = append(got, fe.Field)
				}
			case errors.As(err, &fe):
				got = []string{fe.Field}
			default:
				t.Fatalf("err = %v", err)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("problems %q (%v), want %q", got, err, tc.want)
			}
			if !errors.Is(err, registry.ErrInvalid) || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("err = %v: want ErrInvalid, no value quoted", err)
			}
		})
	}
}
