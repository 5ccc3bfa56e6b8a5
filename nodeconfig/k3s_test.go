package nodeconfig_test

import (
	"errors"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/regcred/regcred/nodeconfig"
	"github.com/regcred/regcred/registry"
)

// k3sRegistries is registries.yaml exactly as the k3s documentation ("Private Registry
// Configuration") and RKE2's ("Containerd Registry Configuration") describe it; the
// strict decode fails on any key they do not document.
type k3sRegistries struct {
	Mirrors map[string]struct {
		Endpoint []string          `json:"endpoint"`
		Rewrite  map[string]string `json:"rewrite"`
	} `json:"mirrors"`
	Configs map[string]struct {
		Auth *struct {
			Username      string `json:"username"`
			Password      string `json:"password"`
			Auth          string `json:"auth"`
			IdentityToken string `json:"identitytoken"`
		} `json:"auth"`
		TLS *struct {
			CertFile           string `json:"cert_file"`
			KeyFile            string `json:"key_file"`
			CAFile             string `json:"ca_file"`
			InsecureSkipVerify bool   `json:"insecure_skip_verify"`
		} `json:"tls"`
	} `json:"configs"`
}

// checkK3sSchema decodes registries.yaml strictly and checks what the documentation
// requires of the values: endpoints are http(s) URLs, config keys are host[:port], CA
// paths are absolute.
func checkK3sSchema(t *testing.T, b []byte) {
	t.Helper()
	var f k3sRegistries
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatalf("registries.yaml does not match the documented schema: %v\n%s", err, b)
	}
	for name, m := range f.Mirrors {
		if len(m.Endpoint) == 0 {
			t.Errorf("mirror %s has no endpoint", name)
		}
		for _, e := range m.Endpoint {
			u, err := url.Parse(e)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				t.Errorf("mirror %s: endpoint %q is not an http(s) URL", name, e)
			}
		}
	}
	for host, c := range f.Configs {
		if strings.Contains(host, "/") {
			t.Errorf("config key %q is not host[:port]", host)
		}
		if c.TLS != nil && c.TLS.CAFile != "" && !strings.HasPrefix(c.TLS.CAFile, "/") {
			t.Errorf("config %s: ca_file %q is not absolute", host, c.TLS.CAFile)
		}
	}
}

func TestK3sSchemaCheckCatchesUndocumentedKeys(t *testing.T) {
	// The check itself must fail on what k3s does not document, or the golden test proves
	// nothing.
	bad := []string{
		"mirrors:\n  docker.io:\n    endpoints: [\"https://m\"]\n",
		"configs:\n  r:\n    tls:\n      ca: /x\n",
	}
	for _, b := range bad {
		var f k3sRegistries
		if err := yaml.UnmarshalStrict([]byte(b), &f); err == nil {
			t.Errorf("strict decode accepted %q", b)
		}
	}
	if _, err := os.Stat("testdata"); err != nil {
		t.Fatal(err)
	}
}

func TestK3sDockerHubCredentialsKey(t *testing.T) {
	regs := []registry.Registry{{ID: "hub", Name: "Hub", Kind: registry.KindDockerHub,
		Fields: map[string]string{"username": "me", "password": "dckr_pat_x"}}}
	p := generate(t, regs, nodeconfig.K3s, t.TempDir())
	var f k3sRegistries
	if err := yaml.UnmarshalStrict(file(t, p, "/etc/rancher/k3s/registries.yaml").Data, &f); err != nil {
		t.Fatal(err)
	}
	if c, ok := f.Configs["registry-1.docker.io"]; !ok || c.Auth == nil || c.Auth.Username != "me" {
		t.Errorf("Docker Hub's credentials must be keyed by its endpoint registry-1.docker.io: %+v", f.Configs)
	}
}

func TestK3sRefusesRedactedRecords(t *testing.T) {
	regs := []registry.Registry{catalog()[2].Redacted()}
	_, err := nodeconfig.Generate(regs, nodeconfig.K3s, nodeconfig.WithRoot(t.TempDir()))
	if !errors.Is(err, registry.ErrRedacted) {
		t.Errorf("a redacted record would write REDACTED as the password; got %v", err)
	}
	// Runtimes without credentials take a redacted record: it has all they need.
	if _, err := nodeconfig.Generate(regs, nodeconfig.Containerd, nodeconfig.WithRoot(t.TempDir())); err != nil {
		t.Errorf("containerd: %v", err)
	}
}

func TestK3sProjectMirrorRewrite(t *testing.T) {
	regs := []registry.Registry{{ID: "p", Name: "Proxy", Kind: registry.KindCustom, Server: "harbor.internal/docker.hub-proxy",
		Mirror: &registry.Mirror{Of: "docker.io"}}}
	p := generate(t, regs, nodeconfig.K3s, t.TempDir())
	var f k3sRegistries
	if err := yaml.UnmarshalStrict(file(t, p, "/etc/rancher/k3s/registries.yaml").Data, &f); err != nil {
		t.Fatal(err)
	}
	m := f.Mirrors["docker.io"]
	if len(m.Endpoint) != 1 || m.Endpoint[0] != "https://harbor.internal" {
		t.Errorf("endpoint %v", m.Endpoint)
	}
	for pat, repl := range m.Rewrite {
		got := regexp.MustCompile(pat).ReplaceAllString("library/alpine", repl)
		if got != "docker.hub-proxy/library/alpine" {
			t.Errorf("rewrite %q -> %q maps library/alpine to %q", pat, repl, got)
		}
	}
	if len(m.Rewrite) != 1 {
		t.Errorf("rewrite %v", m.Rewrite)
	}
}
