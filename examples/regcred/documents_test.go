package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/internal/testenv"
)

// documentsFile is seeds 000 and 001's three registries (the same blocks in both),
// pasted as they are, one YAML document each.
const documentsFile = "../../registryfile/testdata/documents/000-stream.yaml"

// Issue 22: the documents' registries, as their users write them, validate (the inferred
// type said on each line) and give the pull Secrets the documents show: registry-secret-{id},
// type kubernetes.io/dockerconfigjson, data .dockerconfigjson, compared field by field with
// the golden Secrets, and the decoded config (the documents' "Manual test") with its golden
// JSON. Before, `regcred -f` refused the file with 9 problems.
func TestDocumentsRegistries(t *testing.T) {
	code, out, errOut := runCLI(t, "-f", documentsFile, "validate")
	if code != exitOK {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
	}
	fixture.Golden(t, "testdata/documents-validate.golden", []byte(out))

	code, out, errOut = runCLI(t, "-f", documentsFile, "secret", "--namespace", "pesitwizard")
	if code != exitOK {
		t.Fatalf("secret: exit %d\n%s%s", code, out, errOut)
	}
	fixture.Golden(t, "testdata/documents-secrets.golden.yaml", []byte(out))
	got := secretsOf(t, out)
	if len(got) != 3 {
		t.Fatalf("%d Secrets, want 3", len(got))
	}
	var configs []map[string]any
	for i, s := range got {
		// The document's Secret, field by field.
		want := corev1.Secret{}
		want.APIVersion, want.Kind = "v1", "Secret"
		want.Name, want.Namespace = "registry-secret-"+[]string{"docker-hub", "github-registry", "private-registry"}[i], "pesitwizard"
		want.Type = corev1.SecretTypeDockerConfigJson
		if s.APIVersion != want.APIVersion || s.Kind != want.Kind || s.Name != want.Name || s.Namespace != want.Namespace ||
			s.Type != want.Type || len(s.Data) != 1 || len(s.Data[corev1.DockerConfigJsonKey]) == 0 {
			t.Errorf("Secret %d: %s/%s %s/%s type %s, %d data keys; want the document's %s/%s %s/%s type %s with .dockerconfigjson",
				i+1, s.APIVersion, s.Kind, s.Namespace, s.Name, s.Type, len(s.Data), want.APIVersion, want.Kind, want.Namespace, want.Name, want.Type)
		}
		var cfg map[string]any
		if err := json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &cfg); err != nil {
			t.Fatalf("%s: .dockerconfigjson: %v", s.Name, err)
		}
		configs = append(configs, cfg)
	}
	// The documents' "Manual test": the decoded .dockerconfigjson of each.
	b, _ := json.MarshalIndent(configs, "", "  ")
	fixture.Golden(t, "testdata/documents-dockerconfig.golden.json", append(b, '\n'))
}

// secretsOf reads the YAML stream `regcred secret` prints.
func secretsOf(t *testing.T, stream string) []corev1.Secret {
	t.Helper()
	var out []corev1.Secret
	for _, doc := range strings.Split(stream, "\n---\n") {
		var s corev1.Secret
		if err := yaml.UnmarshalStrict([]byte(doc), &s); err != nil {
			t.Fatalf("not a Secret: %v\n%s", err, doc)
		}
		out = append(out, s)
	}
	return out
}

// The same three registries tested live: each against its own local distribution registry
// (htpasswd over TLS) holding the document's user and password. docker.io and ghcr.io
// cannot be served here, so each block is pasted as it is but for its url line, which
// points at the local registry (with its CA), and a type line naming the kind its url
// inferred (an explicit type wins over the host). `regcred test` passes for all three, and
// the pull Secret `regcred secret` prints pulls with skopeo.
func TestDocumentsRegistriesLive(t *testing.T) {
	skopeo := testenv.Skopeo(t)
	src, err := os.ReadFile(documentsFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	text := string(src)
	type server struct {
		url, kind, user, pass string
		reg                   *testenv.RegistryServer
	}
	servers := []*server{
		{"docker.io", "Docker Hub", "myuser", "dckr_pat_xxxxx", nil},
		{"ghcr.io", "GHCR", "my-github-user", "ghp_xxxxxxxxxxxx", nil},
		{"registry.mycompany.com", "Custom", "admin", "secretpassword", nil},
	}
	for i, s := range servers {
		s.reg = testenv.StartRegistry(t, testenv.WithBasicAuth(s.user, s.pass), testenv.WithTLS())
		s.reg.Push(t, "pesitwizard/pesitwizard-server:latest")
		ca := filepath.Join(dir, "ca"+string(rune('0'+i))+".pem")
		if err := os.WriteFile(ca, s.reg.CAPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		line := "url: " + s.url + "\n"
		if !strings.Contains(text, line) {
			t.Fatalf("%s has no line %q", documentsFile, line)
		}
		text = strings.Replace(text, line, "type: "+s.kind+"\nurl: "+s.reg.Host+"\ntls: {ca: \"file:"+ca+"\"}\n", 1)
	}
	file := filepath.Join(dir, "registries.yaml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCLI(t, "-f", file, "test")
	if code != exitOK || !strings.Contains(out, "3 of 3 registries passed") {
		t.Fatalf("test: exit %d\n%s%s", code, out, errOut)
	}
	for _, s := range servers {
		for _, secret := range []string{s.pass} {
			if strings.Contains(out+errOut, secret) {
				t.Fatalf("test printed a password:\n%s", out)
			}
		}
	}

	code, out, errOut = runCLI(t, "-f", file, "secret", "--namespace", "pesitwizard")
	if code != exitOK {
		t.Fatalf("secret: exit %d\n%s%s", code, out, errOut)
	}
	for i, s := range secretsOf(t, out) {
		authfile := filepath.Join(dir, s.Name+".json")
		if err := os.WriteFile(authfile, s.Data[corev1.DockerConfigJsonKey], 0o600); err != nil {
			t.Fatal(err)
		}
		ref := "docker://" + servers[i].reg.Host + "/pesitwizard/pesitwizard-server:latest"
		cmd := exec.Command(skopeo, "inspect", "--raw", "--authfile", authfile, "--cert-dir", certDir(t, servers[i].reg.CAPEM), ref)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("skopeo with %s's Secret: %v\n%s", servers[i].kind, err, b)
		}
	}
}

// certDir is a directory skopeo reads a registry's CA from (--cert-dir).
func certDir(t *testing.T, caPEM []byte) string {
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, "ca.crt"), caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}
