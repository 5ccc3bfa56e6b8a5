package judges

import (
	"crypto/tls"
	"path/filepath"
	"slices"
	"testing"

	"github.com/docker/docker/daemon/config"
	"github.com/docker/docker/opts"
	dockerregistry "github.com/docker/docker/registry"
	"github.com/spf13/pflag"

	"github.com/regcred/regcred/nodeconfig"
	"github.com/regcred/regcred/registry"
)

// dockerd loads the generated daemon.json with the daemon's own loader (merged with no
// flags set, then validated) and returns its registry service. The two registry flags
// are registered as cmd/dockerd's installCommonConfigFlags does (package main, not
// importable): the loader accepts only keys that name a flag.
func dockerd(t *testing.T, root string) *dockerregistry.Service {
	t.Helper()
	flagsConf := &config.Config{}
	flags := pflag.NewFlagSet("dockerd", pflag.ContinueOnError)
	flags.Var(opts.NewNamedListOptsRef("registry-mirrors", &flagsConf.Mirrors, dockerregistry.ValidateMirror), "registry-mirror", "")
	flags.Var(opts.NewNamedListOptsRef("insecure-registries", &flagsConf.InsecureRegistries, dockerregistry.ValidateIndexName), "insecure-registry", "")
	cfg, err := config.MergeDaemonConfigurations(flagsConf, flags, filepath.Join(root, nodeconfig.DockerDaemonJSON))
	if err != nil {
		t.Fatalf("dockerd refuses the generated daemon.json: %v", err)
	}
	svc, err := dockerregistry.NewService(cfg.ServiceOptions)
	if err != nil {
		t.Fatalf("dockerd's registry service refuses the generated settings: %v", err)
	}
	return svc
}

// dockerPulls is where dockerd pulls from for host, in order ("skip-verify" marks TLS
// without verification).
func dockerPulls(t *testing.T, svc *dockerregistry.Service, host string) []string {
	t.Helper()
	eps, err := svc.LookupPullEndpoints(host)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range eps {
		s := e.URL.String()
		if e.URL.Scheme == "https" && e.TLSConfig != nil && e.TLSConfig.InsecureSkipVerify {
			s += " skip-verify"
		}
		out = append(out, s)
	}
	return out
}

// Skip-verify: dockerd tries https without verification, then plain http, and the plan
// says so. A plain-http registry (http://) gets the same two endpoints: dockerd has no
// http-only setting.
func TestDockerSkipVerifyFallsBackToPlainHTTP(t *testing.T) {
	regs := []registry.Registry{reg("lab", "lab.internal:5000", skipVerify, nil), reg("v6", "[fd00::1]:5000", skipVerify, nil), reg("plain", "http://plain.internal:5000", skipVerify, nil)}
	root, p := node(t, regs, nodeconfig.Docker)
	svc := dockerd(t, root)
	if got, want := dockerPulls(t, svc, "plain.internal:5000"), []string{"https://plain.internal:5000 skip-verify", "http://plain.internal:5000"}; !slices.Equal(got, want) {
		t.Errorf("dockerd pulls a plain-http registry from %q, want %q", got, want)
	}
	for host, want := range map[string][]string{
		"lab.internal:5000": {"https://lab.internal:5000 skip-verify", "http://lab.internal:5000"},
		"[fd00::1]:5000":    {"https://[fd00::1]:5000 skip-verify", "http://[fd00::1]:5000"},
	} {
		if got := dockerPulls(t, svc, host); !slices.Equal(got, want) {
			t.Errorf("dockerd pulls %s from %q, want %q", host, got, want)
		}
		if !warned(p, host, "plain http") {
			t.Errorf("the plan does not say dockerd retries %s over plain http: %q", host, p.Warnings)
		}
	}
}

// Docker Hub's mirrors: in order, then Docker Hub whatever the fallback setting (the
// plan says dockerd cannot do without it); a mirror of another registry is not used (the
// plan says so).
func TestDockerMirrors(t *testing.T) {
	regs := []registry.Registry{
		reg("m1", "mirror-a.internal", withCA, &registry.Mirror{Of: "docker.io"}),
		reg("m2", "http://plain.internal:5000", skipVerify, &registry.Mirror{Of: "docker.io", Order: 1}),
		reg("up", "registry.internal", registry.TLS{}, nil),
		reg("m3", "mirror-c.internal", registry.TLS{}, &registry.Mirror{Of: "registry.internal"}),
	}
	root, p := node(t, regs, nodeconfig.Docker)
	svc := dockerd(t, root)
	want := []string{"https://mirror-a.internal/", "http://plain.internal:5000/", "https://registry-1.docker.io"}
	if got := dockerPulls(t, svc, "docker.io"); !slices.Equal(got, want) {
		t.Errorf("dockerd pulls docker.io from %q, want %q", got, want)
	}
	if !warned(p, "falls back to Docker Hub") {
		t.Errorf("no warning that fallback off is not enforced: %q", p.Warnings)
	}
	if got := dockerPulls(t, svc, "registry.internal"); !slices.Equal(got, []string{"https://registry.internal"}) || !warned(p, "Docker Hub only", "registry.internal") {
		t.Errorf("dockerd pulls registry.internal from %q; warnings %q", got, p.Warnings)
	}
}

// certs.d: the daemon's own loader adds the CA to the system pool; the plan says so.
func TestDockerCATrust(t *testing.T) {
	for _, host := range []string{"registry.internal:5443", "[fd00::1]:5000"} {
		root, p := node(t, []registry.Registry{reg("private", host, withCA, nil)}, nodeconfig.Docker)
		tlsc := &tls.Config{}
		if err := dockerregistry.ReadCertsDirectory(tlsc, filepath.Join(root, nodeconfig.DockerCertsDir, host)); err != nil {
			t.Fatal(err)
		}
		if got := trustOf(tlsc.RootCAs, testCA.CertPEM); got != "system+ours" {
			t.Errorf("dockerd trusts %s for %s", got, host)
		}
		if !warned(p, host, "also", "system") {
			t.Errorf("the plan does not say the system CAs are trusted too: %q", p.Warnings)
		}
	}
}

// A verified registry on 127.0.0.0/8: dockerd always counts loopback as insecure
// (skip-verify, then plain http) and daemon.json cannot say otherwise; the plan says so.
func TestDockerLoopbackIsInsecure(t *testing.T) {
	root, p := node(t, []registry.Registry{reg("local", "127.0.0.1:5000", registry.TLS{}, nil), reg("lab", "lab.internal:5000", skipVerify, nil)}, nodeconfig.Docker)
	svc := dockerd(t, root)
	if got, want := dockerPulls(t, svc, "127.0.0.1:5000"), []string{"https://127.0.0.1:5000 skip-verify", "http://127.0.0.1:5000"}; !slices.Equal(got, want) {
		t.Errorf("dockerd pulls a verified loopback registry from %q, want %q", got, want)
	}
	if !warned(p, "127.0.0.1:5000", "loopback", "plain http") {
		t.Errorf("no warning for a verified loopback registry: %q", p.Warnings)
	}
}
