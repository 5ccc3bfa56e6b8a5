package registryfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/registry"
)

func env(m map[string]string) Option {
	return WithLookupEnv(func(k string) (string, bool) { v, ok := m[k]; return v, ok })
}

func TestDecodeSeedShapes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ghcr.token"), []byte("ghp_fromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := `
- name: My GHCR
  type: GHCR
  default: true
  credentials:
    username: myorg
    token: file:ghcr.token
- name: Docker Hub
  type: Docker Hub
  credentials: {username: myuser, password: "${HUB_TOKEN}"}
- name: Internal Registry
  type: custom
  credentials:
    url: "https://registry.internal.example.com"
    username: deploy
    password: secret
- name: Production ECR
  type: ECR
  credentials:
    accessKeyId: "AKIAIOSFODNN7EXAMPLE"
    SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    region: "us-east-1"
- name: Public
  type: public
`
	regs, err := Decode(strings.NewReader(in), WithFileName(filepath.Join(dir, "r.yaml")), env(map[string]string{"HUB_TOKEN": "dckr_pat_x"}))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID, Server string
		Kind       registry.Kind
		Default    bool
		Fields     map[string]string
	}
	var got []row
	for _, r := range regs {
		got = append(got, row{r.ID, r.Server, r.Kind, r.Default, r.Fields})
	}
	want := []row{
		{"my-ghcr", "", registry.KindGHCR, true, map[string]string{"username": "myorg", "token": "ghp_fromfile"}},
		{"docker-hub", "", registry.KindDockerHub, false, map[string]string{"username": "myuser", "password": "dckr_pat_x"}},
		{"internal-registry", "https://registry.internal.example.com", registry.KindCustom, false, map[string]string{"username": "deploy", "password": "secret"}},
		{"production-ecr", "", registry.KindECR, false, map[string]string{"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "region": "us-east-1"}},
		{"public", "", registry.KindPublic, false, nil},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("registries (-want +got):\n%s", d)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // substrings of the error
		field    string
	}{
		{"unknown type", "- name: x\n  type: Nexus\n", []string{`registry "x" (entry 1)`, "unknown registry type"}, "type"},
		{"missing type", "- name: x\n", []string{"entry 1", "type"}, "type"},
		{"unset env", "- name: x\n  type: ghcr\n  credentials: {username: a, token: '${NOPE}'}\n", []string{"$NOPE", "not set"}, "token"},
		{"missing file", "- name: x\n  type: ghcr\n  credentials: {username: a, token: 'file:/nonexistent/tok'}\n", []string{"cannot read /nonexistent/tok"}, "token"},
		{"wrong field", "- name: x\n  type: ghcr\n  credentials: {username: a, password: b}\n", []string{"credentials.password: is not a field of GitHub", "token: is required"}, "credentials.password"},
		{"bad region", "- name: x\n  type: ecr\n  credentials: {region: mars-1}\n", []string{"not an AWS region"}, "region"},
		{"bad url", "- name: x\n  type: custom\n  url: ftp://r.example.com\n", []string{"scheme"}, "url"},
		{"two defaults", "- {name: a, type: public, default: true}\n- {name: b, type: public, default: true}\n", []string{"entry 2", "default"}, "default"},
		{"duplicate name", "- {name: a, type: public}\n- {name: a, type: public}\n", []string{"same id"}, "name"},
		{"unknown key", "- {name: a, type: public, passwd: x}\n", []string{"field passwd: is not a field of a registry entry"}, "passwd"},
		{"not yaml", "- name: [\n", []string{"not valid YAML"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.in), WithFileName("regs.yaml"), env(nil))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "regs.yaml:") {
				t.Errorf("error %q does not name the file", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			var fe *registry.FieldError
			if tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field) {
				t.Errorf("error %q: want a FieldError for %q, got %#v", msg, tt.field, fe)
			}
		})
	}
}

func TestErrorsDoNotLeakSecrets(t *testing.T) {
	in := "- name: x\n  type: ecr\n  credentials: {region: us-east-1, accessKeyId: AKIAIOSFODNN7EXAMPLE, secretAccessKey: 'hunter2-is-not-40-chars'}\n"
	_, err := Decode(strings.NewReader(in))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v: want an error without the secret", err)
	}
}

func TestLoadAndPath(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "registries.yaml")
	if _, err := Load(p); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("missing file: %v, want ErrNotFound", err)
	}
	if err := os.WriteFile(p, []byte("registries:\n- {name: hub, type: public}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	regs, err := Load(p)
	if err != nil || len(regs) != 1 || regs[0].Kind != registry.KindPublic {
		t.Fatalf("Load = %v, %v", regs, err)
	}
	t.Setenv(EnvPath, "/from/env.yaml")
	if got := Path(""); got != "/from/env.yaml" {
		t.Errorf("Path(\"\") = %q with $%s set", got, EnvPath)
	}
	if got := Path("/flag.yaml"); got != "/flag.yaml" {
		t.Errorf("Path(flag) = %q", got)
	}
	t.Setenv(EnvPath, "")
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	if got := Path(""); got != "/xdg/regcred/registries.yaml" {
		t.Errorf("default path = %q", got)
	}
}
