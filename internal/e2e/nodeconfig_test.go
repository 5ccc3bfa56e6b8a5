package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/nodeconfig"
	"github.com/regcred/regcred/registry"
)

// TestNodeConfiguration: what package nodeconfig generates for containerd (hosts.toml and
// the CA beside it, under the node's config_path) is what makes the kubelet's pull work.
//
//   - A registry with a private CA: with the generated files the pod pulls. The controls:
//     without any file containerd 1.6 speaks plain HTTP to a loopback registry (its
//     default for localhost and 127.0.0.0/8) and gets the TLS server's 400; with the files
//     generated from another CA the pull fails with the x509 error.
//   - A pull-through mirror of docker.io (docker-registry in proxy mode with a private CA,
//     in front of an upstream on loopback; Docker Hub is unreachable here): the pod of
//     docker.io/library/app pulls through it, and the mirror's log shows it served the
//     manifest; the control, generated without the mirror's CA, fails with the x509 error.
func TestNodeConfiguration(t *testing.T) {
	n := startNode(t)

	t.Run("private CA", func(t *testing.T) {
		reg := testenv.StartRegistry(t, testenv.WithTLS())
		image := push(t, reg.Host+"/team/app:v1", "", "", reg.CAPEM)
		rec := registry.Registry{ID: "private", Name: "Private", Kind: registry.KindCustom, Server: reg.Host,
			TLS: registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(reg.CAPEM)}}
		n := n.in(t)

		n.mustFail("no node configuration (the control)", pod{image: image, serviceAccount: "plain"}, "400 Bad Request")
		other := rec
		other.TLS = registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(testenv.NewCA(t).CertPEM)}
		n.applyNodeConfig(other, reg.Host)
		n.mustFail("generated from another CA (the control)", pod{image: image, serviceAccount: "plain"}, "x509: certificate signed by unknown authority")
		n.applyNodeConfig(rec, reg.Host)
		n.mustPull("generated with the private CA", pod{image: image, serviceAccount: "plain"})
	})

	t.Run("mirror", func(t *testing.T) {
		upstream := testenv.StartRegistry(t)
		push(t, upstream.Host+"/library/app:v1", "", "", nil)
		mirror := testenv.StartMirror(t, upstream, testenv.WithTLS())
		rec := registry.Registry{ID: "hub-cache", Name: "Hub cache", Kind: registry.KindCustom, Server: mirror.Host,
			TLS:    registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(mirror.CAPEM)},
			Mirror: &registry.Mirror{Of: "docker.io"}}
		n := n.in(t)
		const image = "docker.io/library/app:v1"

		none := rec
		none.TLS = registry.TLS{Mode: registry.TLSSecure}
		n.applyNodeConfig(none, "docker.io")
		n.mustFail("the mirror generated without its CA (the control)", pod{image: image, serviceAccount: "plain"}, "x509: certificate signed by unknown authority")
		n.applyNodeConfig(rec, "docker.io")
		n.mustPull("through the generated mirror", pod{image: image, serviceAccount: "plain"})
		if !mirror.Served("/v2/library/app/manifests/v1") {
			t.Errorf("the mirror's log shows no manifest served:\n%s", mirror.Logs())
		}
	})
}

// applyNodeConfig generates containerd's configuration for rec with the node's config_path
// and writes what goes below it (the hosts directory of host is replaced whole; the
// config.toml for the CRI plugin is not written: the harness's containerd has config_path
// set already).
func (n *node) applyNodeConfig(rec registry.Registry, host string) {
	n.t.Helper()
	p, err := nodeconfig.Generate([]registry.Registry{rec}, nodeconfig.Containerd, nodeconfig.WithContainerdConfigPath(n.kubelet.HostsDir), nodeconfig.WithRoot(n.t.TempDir()))
	if err != nil {
		n.t.Fatalf("nodeconfig.Generate: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(n.kubelet.HostsDir, host)); err != nil {
		n.t.Fatal(err)
	}
	for _, f := range p.Files {
		if !strings.HasPrefix(f.Path, n.kubelet.HostsDir+"/") {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
			n.t.Fatal(err)
		}
		if err := os.WriteFile(f.Path, f.Data, f.Mode); err != nil {
			n.t.Fatal(err)
		}
		if strings.HasSuffix(f.Path, "/hosts.toml") {
			n.t.Logf("%s:\n%s", f.Path, f.Data)
		}
	}
}
