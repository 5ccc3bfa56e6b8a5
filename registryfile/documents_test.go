package registryfile

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/registry"
)

// The registries of seeds 000 and 001 (the same three blocks in both), written as their
// users write them (no type, flat username and password), load as a stream of documents,
// as a list, and one alone; the kind is inferred from the url and said, and GHCR's password
// is its token.
func TestDocumentsShape(t *testing.T) {
	type row struct {
		ID, Name, Server string
		Kind             registry.Kind
		Fields           map[string]string
		Inferred         string
	}
	want := []row{
		{"docker-hub", "Docker Hub", "docker.io", registry.KindDockerHub, map[string]string{"username": "myuser", "password": "dckr_pat_xxxxx"},
			"type dockerhub (Docker Hub) inferred from host docker.io"},
		{"github-registry", "GitHub Registry", "ghcr.io", registry.KindGHCR, map[string]string{"username": "my-github-user", "token": "ghp_xxxxxxxxxxxx"},
			"type ghcr (GitHub Container Registry) inferred from host ghcr.io"},
		{"private-registry", "Private Registry", "registry.mycompany.com", registry.KindCustom, map[string]string{"username": "admin", "password": "secretpassword"},
			"type custom (Custom / self-hosted) inferred from host registry.mycompany.com"},
	}
	for _, tc := range []struct {
		file string
		want []row
	}{
		{"000-stream.yaml", want},
		{"000-list.yaml", want},
		{"000-ghcr.yaml", want[1:2]},
	} {
		t.Run(tc.file, func(t *testing.T) {
			entries, err := LoadEntries(filepath.Join("testdata", "documents", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			for _, e := range entries {
				r := e.Registry
				inf := ""
				if e.Inferred != nil {
					inf = e.Inferred.String()
				}
				got = append(got, row{r.ID, r.Name, r.Server, r.Kind, r.Fields, inf})
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Fatalf("(-want +got)\n%s", d)
			}
		})
	}
}

// An explicit type wins over the host, and the host still gives what it can (ECR's region);
// the flat shape works under every kind that has a username and a password.
func TestDocumentsShapeExplicitType(t *testing.T) {
	in := `
- name: quay as custom
  type: custom
  url: quay.io
  username: u
  password: p
- name: ecr
  url: 123456789012.dkr.ecr.eu-west-3.amazonaws.com
  username: AKIAIOSFODNN7EXAMPLE
  password: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
- name: ecr typed
  type: ECR
  url: 123456789012.dkr.ecr.eu-west-1.amazonaws.com
- name: gar
  url: europe-west1-docker.pkg.dev/my-project
  password: file:key.json
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "key.json"), serviceAccountKey(t), 0o600); err != nil {
		t.Fatal(err)
	}
	entries, err := DecodeEntries(strings.NewReader(in), WithFileName(filepath.Join(dir, "r.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		kind     registry.Kind
		region   string
		inferred bool
	}{{registry.KindCustom, "", false}, {registry.KindECR, "eu-west-3", true}, {registry.KindECR, "eu-west-1", false}, {registry.KindGAR, "europe-west1", true}} {
		e := entries[i]
		if e.Registry.Kind != want.kind || e.Registry.Fields["region"] != want.region || (e.Inferred != nil) != want.inferred {
			t.Errorf("entry %d: %s region %q inferred %v, want %+v", i+1, e.Registry.Kind, e.Registry.Fields["region"], e.Inferred, want)
		}
	}
	if f := entries[3].Registry.Fields; f["serviceAccountKey"] == "" || entries[3].Inferred.String() != "type gar (Google Artifact Registry) inferred from host europe-west1-docker.pkg.dev; region from the host too" {
		t.Errorf("gar: %v", entries[3].Inferred)
	}
}

// Every validation rule holds for the documents' shape, and a shape that is neither ours
// nor the documents' gets every problem at once, each named as the entry wrote it.
func TestDocumentsShapeProblems(t *testing.T) {
	in := `- name: ghcr without a password
  url: ghcr.io
  username: my-github-user
- name: no url
  username: u
  password: p
- name: bad url
  url: ftp://registry.example.com
  username: u
  password: p
- url: public.ecr.aws
  type: public
  password: hunter2
- name: neither shape
  url: ghcr.io
  user: me
  pasword: hunter2
  credentails: {}
`
	_, err := Decode(strings.NewReader(in))
	var got []string
	for _, p := range Problems(err) {
		got = append(got, p.Error())
	}
	want := []string{
		`line 1: registry "ghcr without a password" (entry 1): field password: is required for GitHub Container Registry`,
		`line 4: registry "no url" (entry 2): field type: is missing and there is no url to infer it from`,
		`line 8: registry "bad url" (entry 3): field url: scheme "ftp" is not supported`,
		`line 13: entry 4: field password: is not used by Public (no auth)`,
		`line 11: entry 4: field name: is empty`,
		`line 16: registry "neither shape" (entry 5): field user: is not a field of a registry entry`,
		`line 17: registry "neither shape" (entry 5): field pasword: is not a field of a registry entry (did you mean "password"?`,
		`line 18: registry "neither shape" (entry 5): field credentails: is not a field of a registry entry (did you mean "credentials"?`,
		`line 14: registry "neither shape" (entry 5): field username: is required for GitHub Container Registry`,
		`line 14: registry "neither shape" (entry 5): field token: is required for GitHub Container Registry`,
	}
	if len(got) != len(want) {
		t.Fatalf("%d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d:\n %s\nwant\n %s", i+1, got[i], want[i])
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a problem quotes a secret: %v", err)
	}
}

// The documents' blocks pasted one after another without a separator are one mapping
// with keys given twice: the problem says how to separate them.
func TestDocumentsPastedWithoutSeparator(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "documents", "000-pasted.yaml"))
	var fe *registry.FieldError
	if !errors.As(err, &fe) || fe.Field != "name" || !strings.Contains(err.Error(), "is given twice (first on line 1)") ||
		!strings.Contains(err.Error(), "separate them with a line of ---") {
		t.Fatalf("err = %v", err)
	}
}

// serviceAccountKey is a Google service account key file with a generated RSA key.
func serviceAccountKey(t *testing.T) []byte {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	b, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "demo", "private_key_id": "abc",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "puller@demo.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token"})
	return b
}
