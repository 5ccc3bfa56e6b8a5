package nodeconfig_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/nodeconfig"
	"github.com/regcred/regcred/registry"
)

// debianContainerdConfig is the config.toml Debian's containerd package ships (abridged),
// with a comment: the merge must keep its settings.
const debianContainerdConfig = `version = 2

# Debian's defaults
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.internal.v1.opt"]
    path = "/var/lib/containerd/opt"
`

// TestContainerdPullThroughMirror: ctr pulls docker.io/library/app through a pull-through
// mirror (docker-registry in proxy mode, serving https with a private CA, in front of an
// upstream registry on loopback) using only the generated hosts.toml and CA file. Docker
// Hub itself is unreachable here, so the pull can only succeed through the mirror; the
// mirror's log shows it served the manifest.
func TestContainerdPullThroughMirror(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	upstream := testenv.StartRegistry(t)
	upstream.Push(t, "library/app:v1")
	mirror := testenv.StartMirror(t, upstream, testenv.WithTLS())

	root := t.TempDir()
	writeNode(t, root, nodeconfig.ContainerdConfigFile, debianContainerdConfig, 0o644)
	regs := []registry.Registry{{
		ID: "hub-cache", Name: "Hub cache", Kind: registry.KindCustom, Server: mirror.Host,
		TLS:    registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(mirror.CAPEM)},
		Mirror: &registry.Mirror{Of: "docker.io"},
	}}
	p := apply(t, regs, nodeconfig.Containerd, root)
	t.Logf("hosts.toml:\n%s", file(t, p, "/etc/containerd/certs.d/docker.io/hosts.toml").Data)

	d := testenv.StartContainerd(t, testenv.WithContainerdConfig(readNode(t, root, nodeconfig.ContainerdConfigFile)))
	if st, err := d.PluginStatus(ctx, "cri"); err != nil || st != "ok" {
		t.Errorf("the CRI plugin with the generated config.toml: status %q, %v; want ok", st, err)
	}
	hostsDir := filepath.Join(root, "etc/containerd/certs.d")
	if out, err := d.Pull(ctx, hostsDir, "docker.io/library/app:v1"); err != nil {
		t.Fatalf("pull through the mirror: %v\n%s", err, out)
	}
	servedManifest(t, mirror, "/v2/library/app/manifests/v1")
	// Without the generated files the same pull fails: they made the difference.
	if out, err := d.Pull(ctx, t.TempDir(), "docker.io/library/app:v1"); err == nil {
		t.Errorf("a pull without the hosts dir succeeded (from the content store?): %s", out)
	}
}

// TestContainerdPrivateCA: ctr pulls from a registry served with a private CA using only
// the generated hosts.toml and ca.crt. containerd treats loopback as insecure when it has
// no hosts.toml for it, so the control is the same files generated from another CA: that
// pull fails on the certificate, so the generated CA is what made the first one pass.
func TestContainerdPrivateCA(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	reg := testenv.StartRegistry(t, testenv.WithTLS())
	ref := reg.Push(t, "team/app:v1")

	root := t.TempDir()
	regs := []registry.Registry{{
		ID: "private", Name: "Private", Kind: registry.KindCustom, Server: reg.Host,
		TLS: registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(reg.CAPEM)},
	}}
	p := apply(t, regs, nodeconfig.Containerd, root)
	if got := file(t, p, "/etc/containerd/certs.d/"+reg.Host+"/ca.crt"); got.Mode != 0o644 {
		t.Errorf("ca.crt mode %o, want 0644", got.Mode)
	}
	other := t.TempDir()
	regs[0].TLS.CABundle = string(testenv.NewCA(t).CertPEM)
	apply(t, regs, nodeconfig.Containerd, other)

	d := testenv.StartContainerd(t)
	if out, err := d.Pull(ctx, filepath.Join(other, "etc/containerd/certs.d"), ref); err == nil || !strings.Contains(err.Error(), "x509") {
		t.Fatalf("with another CA the pull should fail on the certificate; got %v\n%s", err, out)
	}
	if out, err := d.Pull(ctx, filepath.Join(root, "etc/containerd/certs.d"), ref); err != nil {
		t.Fatalf("pull with the generated CA: %v\n%s", err, out)
	}
}

// TestContainerdFallbackOffNeverPullsUpstream: the installed containerd 1.6 decides what
// "fallback off" means in the generated hosts.toml (the upstream as server with push
// only). With the only mirror down, the pull fails although the upstream has the image;
// the control, fallback on, pulls it from the upstream.
func TestContainerdFallbackOffNeverPullsUpstream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	upstream := testenv.StartRegistry(t)
	ref := upstream.Push(t, "team/app:v1")
	d := testenv.StartContainerd(t)
	for _, fallback := range []bool{false, true} {
		regs := []registry.Registry{
			{ID: "up", Name: "Upstream", Kind: registry.KindCustom, Server: "http://" + upstream.Host, TLS: registry.TLS{Mode: registry.TLSInsecure}},
			{ID: "down", Name: "Mirror (down)", Kind: registry.KindCustom, Server: "http://127.0.0.1:1", TLS: registry.TLS{Mode: registry.TLSInsecure},
				Mirror: &registry.Mirror{Of: upstream.Host, Fallback: fallback}},
		}
		root := t.TempDir()
		apply(t, regs, nodeconfig.Containerd, root)
		out, err := d.Pull(ctx, filepath.Join(root, "etc/containerd/certs.d"), ref)
		if fallback && err != nil {
			t.Errorf("fallback on: the pull should reach the upstream: %v\n%s", err, out)
		}
		if !fallback && err == nil {
			t.Errorf("fallback off: containerd pulled from the upstream:\n%s", out)
		}
	}
}

// TestContainerdMirrorsInConfigTOML: the installed containerd 1.6 does not start its CRI
// plugin with registry mirrors in config.toml beside config_path, so Generate refuses to
// add config_path to such a file (saying what to do) instead of writing it; the control,
// the same file with the mirrors moved out as Generate asks, starts the plugin.
func TestContainerdMirrorsInConfigTOML(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mirrors := "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n  endpoint = [\"https://m.internal\"]\n"
	withPath := "[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d\"\n"
	d := testenv.StartContainerd(t, testenv.WithContainerdConfig([]byte(mirrors+withPath)))
	if st, err := d.PluginStatus(ctx, "cri"); err == nil && st == "ok" {
		t.Fatalf("containerd 1.6 started its CRI plugin with mirrors beside config_path: the refusal is obsolete")
	}
	root := t.TempDir()
	writeNode(t, root, nodeconfig.ContainerdConfigFile, mirrors, 0o644)
	lab := []registry.Registry{{ID: "lab", Name: "Lab", Kind: registry.KindCustom, Server: "lab.internal:5000", TLS: registry.TLS{Mode: registry.TLSInsecure}}}
	if _, err := nodeconfig.Generate(lab, nodeconfig.Containerd, nodeconfig.WithRoot(root)); !errors.Is(err, nodeconfig.ErrInvalid) || !strings.Contains(err.Error(), "mirrors") {
		t.Errorf("Generate over a config.toml with mirrors: %v, want a refusal naming them", err)
	}
	d = testenv.StartContainerd(t, testenv.WithContainerdConfig([]byte("version = 2\n"+withPath)))
	if st, err := d.PluginStatus(ctx, "cri"); err != nil || st != "ok" {
		t.Errorf("the control: CRI plugin %q, %v", st, err)
	}
}
