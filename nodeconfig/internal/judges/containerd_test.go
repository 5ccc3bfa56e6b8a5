package judges

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	docker17 "github.com/containerd/containerd/remotes/docker"
	config17 "github.com/containerd/containerd/remotes/docker/config"
	docker2 "github.com/containerd/containerd/v2/core/remotes/docker"
	config2 "github.com/containerd/containerd/v2/core/remotes/docker/config"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/nodeconfig"
	"github.com/regcred/regcred/registry"
)

// ctrHost is one endpoint as containerd's hosts loader returns it for a pull.
type ctrHost struct {
	URL          string // scheme://host/path
	Pull         bool   // pull and resolve capabilities
	Push         bool
	SkipVerify   bool
	RootCAs      *tlsPool
	HTTPFallback bool // a TLS failure is retried over plain http
}

type tlsPool = tls.Config

// ctrLoader is one containerd line's hosts directory loader: ConfigureHosts with
// HostDirFromRoot, as the CRI plugin and ctr --hosts-dir call it.
type ctrLoader struct {
	version string
	hosts   func(ctx context.Context, dir, host string) ([]ctrHost, error)
	resolve func(ctx context.Context, dir, ref string) error
}

func summarize(scheme, host, path string, pull, push bool, rt http.RoundTripper) ctrHost {
	h := ctrHost{URL: scheme + "://" + host + path, Pull: pull, Push: push}
	if tr, ok := rt.(*http.Transport); ok {
		h.RootCAs = tr.TLSClientConfig
		h.SkipVerify = tr.TLSClientConfig != nil && tr.TLSClientConfig.InsecureSkipVerify
	} else {
		h.HTTPFallback = strings.Contains(fmt.Sprintf("%T", rt), "allback")
	}
	return h
}

var containerdLines = []ctrLoader{
	{"2.4", func(ctx context.Context, dir, host string) ([]ctrHost, error) {
		hs, err := config2.ConfigureHosts(ctx, config2.HostOptions{HostDir: config2.HostDirFromRoot(dir)})(host)
		var out []ctrHost
		for _, h := range hs {
			out = append(out, summarize(h.Scheme, h.Host, h.Path, h.Capabilities.Has(docker2.HostCapabilityPull|docker2.HostCapabilityResolve), h.Capabilities.Has(docker2.HostCapabilityPush), h.Client.Transport))
		}
		return out, err
	}, func(ctx context.Context, dir, ref string) error {
		r := docker2.NewResolver(docker2.ResolverOptions{Hosts: config2.ConfigureHosts(ctx, config2.HostOptions{HostDir: config2.HostDirFromRoot(dir)})})
		_, _, err := r.Resolve(ctx, ref)
		return err
	}},
	{"1.7", func(ctx context.Context, dir, host string) ([]ctrHost, error) {
		hs, err := config17.ConfigureHosts(ctx, config17.HostOptions{HostDir: config17.HostDirFromRoot(dir)})(host)
		var out []ctrHost
		for _, h := range hs {
			out = append(out, summarize(h.Scheme, h.Host, h.Path, h.Capabilities.Has(docker17.HostCapabilityPull|docker17.HostCapabilityResolve), h.Capabilities.Has(docker17.HostCapabilityPush), h.Client.Transport))
		}
		return out, err
	}, func(ctx context.Context, dir, ref string) error {
		r := docker17.NewResolver(docker17.ResolverOptions{Hosts: config17.ConfigureHosts(ctx, config17.HostOptions{HostDir: config17.HostDirFromRoot(dir)})})
		_, _, err := r.Resolve(ctx, ref)
		return err
	}},
}

// pullOrder is the endpoints containerd tries for a pull, in order.
func pullOrder(hs []ctrHost) []string {
	var out []string
	for _, h := range hs {
		if h.Pull {
			out = append(out, h.URL)
		}
	}
	return out
}

func certsDir(root string) string { return filepath.Join(root, "etc/containerd/certs.d") }

// Mirrors without fallback: containerd pulls from each mirror once, in order, and never
// from the upstream. (Before: the last mirror was also the hosts.toml server, so
// containerd tried it twice when it failed.)
func TestContainerdMirrorsWithoutFallback(t *testing.T) {
	regs := []registry.Registry{
		reg("m1", "mirror-a.internal", registry.TLS{}, &registry.Mirror{Of: "docker.io"}),
		reg("m2", "mirror-b.internal:5000", withCA, &registry.Mirror{Of: "docker.io", Order: 1}),
	}
	for _, fallback := range []bool{false, true} {
		regs[0].Mirror.Fallback, regs[1].Mirror.Fallback = fallback, fallback
		root, _ := node(t, regs, nodeconfig.Containerd)
		want := []string{"https://mirror-a.internal/v2", "https://mirror-b.internal:5000/v2"}
		if fallback {
			want = append(want, "https://registry-1.docker.io/v2")
		}
		for _, l := range containerdLines {
			hs, err := l.hosts(context.Background(), certsDir(root), "docker.io")
			if err != nil {
				t.Fatalf("containerd %s: %v", l.version, err)
			}
			if got := pullOrder(hs); !slices.Equal(got, want) {
				t.Errorf("containerd %s, fallback %v: pulls from %q, want %q", l.version, fallback, got, want)
			}
		}
	}
}

// A private CA: containerd trusts the CA given and also every CA of the node's system
// pool (hosts.toml cannot say "only this CA"), so the plan says so.
func TestContainerdCATrustIsWider(t *testing.T) {
	root, p := node(t, []registry.Registry{reg("private", "registry.internal:5443", withCA, nil)}, nodeconfig.Containerd)
	for _, l := range containerdLines {
		hs, err := l.hosts(context.Background(), certsDir(root), "registry.internal:5443")
		if err != nil || len(hs) == 0 {
			t.Fatalf("containerd %s: %v %v", l.version, hs, err)
		}
		for _, h := range hs {
			if got := trustOf(h.RootCAs.RootCAs, testCA.CertPEM); got != "system+ours" || h.SkipVerify || h.HTTPFallback {
				t.Errorf("containerd %s: %s trusts %s (skip %v, http fallback %v)", l.version, h.URL, got, h.SkipVerify, h.HTTPFallback)
			}
		}
	}
	if !warned(p, "registry.internal:5443", "also", "system") {
		t.Errorf("the plan does not say the node's system CAs are trusted as well: %q", p.Warnings)
	}
}

// Skip-verify: containerd uses https without verification and never plain http, in
// both lines; a plain-http registry is http only.
func TestContainerdSkipVerifyAndPlainHTTP(t *testing.T) {
	regs := []registry.Registry{
		reg("lab", "lab.internal:5000", skipVerify, nil),
		reg("plain", "http://plain.internal:5000", skipVerify, nil),
	}
	root, _ := node(t, regs, nodeconfig.Containerd)
	for _, l := range containerdLines {
		for host, want := range map[string]ctrHost{
			"lab.internal:5000":   {URL: "https://lab.internal:5000/v2", Pull: true, Push: true, SkipVerify: true},
			"plain.internal:5000": {URL: "http://plain.internal:5000/v2", Pull: true, Push: true, SkipVerify: false},
		} {
			hs, err := l.hosts(context.Background(), certsDir(root), host)
			if err != nil {
				t.Fatalf("containerd %s: %v", l.version, err)
			}
			if len(hs) != 1 {
				t.Errorf("containerd %s, %s: %d endpoints %q, want one (each tried once)", l.version, host, len(hs), pullOrder(hs))
			}
			for _, h := range hs {
				h.RootCAs = nil
				if h != want {
					t.Errorf("containerd %s, %s: %+v, want %+v", l.version, host, h, want)
				}
			}
		}
	}
}

// An IPv6 literal with a port: every line finds the generated directory ("[fd00::1]:5000",
// looked up after "[fd00::1]_5000_") and reads its hosts.toml: skip_verify, once. (Before:
// the server was also a [host."https://[fd00::1]:5000"] table, which containerd 1.6 and
// 1.7 cannot parse; they ignored the file and verified TLS.) A mirror that is an IPv6
// literal must be a table name: containerd 1.7 ignores the file, and the plan says so.
func TestContainerdIPv6Host(t *testing.T) {
	root, _ := node(t, []registry.Registry{reg("v6", "[fd00::1]:5000", skipVerify, nil)}, nodeconfig.Containerd)
	for _, l := range containerdLines {
		hs, err := l.hosts(context.Background(), certsDir(root), "[fd00::1]:5000")
		if err != nil || len(hs) != 1 || hs[0].URL != "https://[fd00::1]:5000/v2" || !hs[0].SkipVerify {
			t.Errorf("containerd %s: %+v %v, want one https://[fd00::1]:5000/v2 with skip_verify", l.version, hs, err)
		}
	}
	root, p := node(t, []registry.Registry{reg("v6", "[fd00::1]:5000", skipVerify, &registry.Mirror{Of: "docker.io"})}, nodeconfig.Containerd)
	for _, l := range containerdLines {
		hs, err := l.hosts(context.Background(), certsDir(root), "docker.io")
		got := pullOrder(hs)
		readable := err == nil && slices.Equal(got, []string{"https://[fd00::1]:5000/v2"})
		switch {
		case l.version == "1.7" && readable:
			t.Errorf("containerd 1.7 read a hosts.toml naming an IPv6 mirror: %q (the warning is obsolete)", got)
		case l.version != "1.7" && !readable:
			t.Errorf("containerd %s: %q %v", l.version, got, err)
		}
	}
	if !warned(p, "IPv6", "containerd 1.6 and 1.7") {
		t.Errorf("no warning for an IPv6 mirror: %q", p.Warnings)
	}
}

// A real resolution by each line's resolver: a registry served with a private CA is
// reached with only the generated hosts directory; the same files generated from another
// CA fail on the certificate (the control).
func TestContainerdResolvesWithGeneratedCA(t *testing.T) {
	r := testenv.StartRegistry(t, testenv.WithTLS())
	ref := r.Push(t, "team/app:v1")
	good, _ := node(t, []registry.Registry{reg("p", r.Host, registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(r.CAPEM)}, nil)}, nodeconfig.Containerd)
	bad, _ := node(t, []registry.Registry{reg("p", r.Host, withCA, nil)}, nodeconfig.Containerd)
	for _, l := range containerdLines {
		if err := l.resolve(context.Background(), certsDir(good), ref); err != nil {
			t.Errorf("containerd %s with the generated CA: %v", l.version, err)
		}
		if err := l.resolve(context.Background(), certsDir(bad), ref); err == nil || !strings.Contains(err.Error(), "x509") {
			t.Errorf("containerd %s with another CA: %v, want an x509 error", l.version, err)
		}
	}
}

// A mirror inside a project (Harbor's proxy cache): containerd pulls from the project's
// API root (override_path), then the upstream with fallback.
func TestContainerdProjectMirror(t *testing.T) {
	regs := []registry.Registry{reg("proxy", "harbor.internal/hub-proxy", registry.TLS{}, &registry.Mirror{Of: "docker.io", Fallback: true})}
	root, _ := node(t, regs, nodeconfig.Containerd)
	want := []string{"https://harbor.internal/v2/hub-proxy", "https://registry-1.docker.io/v2"}
	for _, l := range containerdLines {
		hs, err := l.hosts(context.Background(), certsDir(root), "docker.io")
		if got := pullOrder(hs); err != nil || !slices.Equal(got, want) {
			t.Errorf("containerd %s: %q %v, want %q", l.version, got, err, want)
		}
	}
}

// A verified registry on loopback ("localhost:5000", "127.0.0.1:5000"): without a
// hosts.toml containerd tries it over https without verification, then plain http (its
// localhost default). The generated hosts.toml pins verified https, once.
func TestContainerdVerifiedLoopback(t *testing.T) {
	for _, host := range []string{"localhost:5000", "127.0.0.1:5000"} {
		root, _ := node(t, []registry.Registry{reg("local", host, registry.TLS{}, nil)}, nodeconfig.Containerd)
		for _, l := range containerdLines {
			hs, err := l.hosts(context.Background(), certsDir(root), host)
			if err != nil || len(hs) != 1 || hs[0].URL != "https://"+host+"/v2" || hs[0].SkipVerify || hs[0].HTTPFallback {
				t.Errorf("containerd %s, %s: %+v %v, want verified https once", l.version, host, hs, err)
			}
		}
	}
}
