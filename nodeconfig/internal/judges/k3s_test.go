package judges

import (
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/rancher/wharfie/pkg/registries"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/nodeconfig"
	"github.com/regcred/regcred/registry"
)

// fakeHub serves a registry (go-containerregistry's in-memory one) holding library/app:v1
// as Docker Hub: https with a certificate for Docker Hub's names, answering only user:pass
// (basic auth). It returns how many requests carried the right credentials.
func fakeHub(t *testing.T, user, pass string) *int {
	t.Helper()
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	authed := new(int)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="hub"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		*authed++
		reg.ServeHTTP(w, r)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{hubCert(t)}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	// Push through a plain listener on the same registry, without auth.
	push := httptest.NewServer(reg)
	t.Cleanup(push.Close)
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(strings.TrimPrefix(push.URL, "http://") + "/library/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	*authed = 0
	serveHub(t, srv.Listener.Addr().String())
	return authed
}

// wharfiePull pulls ref with wharfie, reading the generated registries.yaml of rt, and
// with no other credentials (its default keychain reads $HOME/.docker: empty here).
func wharfiePull(t *testing.T, root string, rt nodeconfig.Runtime, ref string) error {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	dir := "etc/rancher/k3s"
	if rt == nodeconfig.RKE2 {
		dir = "etc/rancher/rke2"
	}
	r, err := registries.GetPrivateRegistries(filepath.Join(root, dir, "registries.yaml"))
	if err != nil {
		t.Fatalf("wharfie reads the generated registries.yaml: %v", err)
	}
	r.DefaultKeychain = authn.NewMultiKeychain() // nothing but registries.yaml
	// The node's CA paths, read under the root as a chroot would.
	for k, c := range r.Registry.Configs {
		if c.TLS != nil && c.TLS.CAFile != "" {
			c.TLS.CAFile = filepath.Join(root, c.TLS.CAFile)
			r.Registry.Configs[k] = c
		}
	}
	n, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := r.Image(n)
	if err == nil {
		_, err = img.Manifest()
	}
	return err
}

// Docker Hub credentials: wharfie (k3s, RKE2) pulls docker.io images from
// index.docker.io and looks their credentials up under "index.docker.io", then
// "docker.io"; before, they were written under registry-1.docker.io only (k3s's own
// containerd key), where wharfie never looks, and its pulls went anonymous (401).
func TestK3sDockerHubCredentials(t *testing.T) {
	authed := fakeHub(t, "hubuser", "dckr_pat_judge")
	hub := registry.Registry{ID: "hub", Name: "Docker Hub", Kind: registry.KindDockerHub,
		Fields: map[string]string{"username": "hubuser", "password": "dckr_pat_judge"}}
	for _, rt := range []nodeconfig.Runtime{nodeconfig.K3s, nodeconfig.RKE2} {
		root, _ := node(t, []registry.Registry{hub}, rt)
		if err := wharfiePull(t, root, rt, "docker.io/library/app:v1"); err != nil || *authed == 0 {
			t.Errorf("%s: wharfie pulls library/app from Docker Hub with the generated credentials: %v (%d authenticated requests)", rt, err, *authed)
		}
		*authed = 0
	}
	// The control: without the generated file the same pull is refused.
	if err := wharfiePull(t, t.TempDir(), nodeconfig.K3s, "docker.io/library/app:v1"); err == nil || !strings.Contains(err.Error(), "401") && !strings.Contains(err.Error(), "UNAUTHORIZED") {
		t.Errorf("without registries.yaml: %v, want a 401", err)
	}
}

// Fallback off: wharfie always tries the upstream after the mirrors (registries.go:
// "always add the default endpoint"), whatever k3s's disable-default-registry-endpoint
// says for containerd. With the only mirror down, its pull reaches Docker Hub; the plan
// says so.
func TestK3sWharfieAlwaysFallsBack(t *testing.T) {
	fakeHub(t, "hubuser", "dckr_pat_judge")
	regs := []registry.Registry{
		{ID: "hub", Name: "Docker Hub", Kind: registry.KindDockerHub, Fields: map[string]string{"username": "hubuser", "password": "dckr_pat_judge"}},
		reg("down", "https://127.0.0.1:1", registry.TLS{}, &registry.Mirror{Of: "docker.io"}),
	}
	for _, rt := range []nodeconfig.Runtime{nodeconfig.K3s, nodeconfig.RKE2} {
		root, p := node(t, regs, rt)
		if err := wharfiePull(t, root, rt, "docker.io/library/app:v1"); err != nil {
			t.Errorf("%s: wharfie no longer falls back to Docker Hub (%v): drop the warning", rt, err)
		}
		if !warned(p, "docker.io", "wharfie") {
			t.Errorf("%s: the plan does not say wharfie still falls back: %q", rt, p.Warnings)
		}
	}
}

// A mirror inside a project (Harbor's proxy cache), with credentials and a private CA:
// wharfie rewrites the repository below the project and authenticates with the mirror's
// credentials; the mirror is a real docker-registry.
func TestK3sProjectMirror(t *testing.T) {
	m := testenv.StartRegistry(t, testenv.WithTLS(), testenv.WithBasicAuth("robot", "robot-s3cret"))
	m.Push(t, "hub-proxy/library/app:v1")
	regs := []registry.Registry{{ID: "proxy", Name: "Harbor proxy", Kind: registry.KindHarbor, Server: m.Host + "/hub-proxy",
		Fields: map[string]string{"username": "robot", "password": "robot-s3cret"},
		TLS:    registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(m.CAPEM)}, Mirror: &registry.Mirror{Of: "docker.io"}}}
	root, _ := node(t, regs, nodeconfig.K3s)
	if err := wharfiePull(t, root, nodeconfig.K3s, "docker.io/library/app:v1"); err != nil {
		t.Errorf("wharfie through the project mirror: %v", err)
	}
}

// A private CA in registries.yaml (ca_file): wharfie adds it to the system pool, so a
// certificate the system trusts passes too. Docker Hub is given a CA that did not sign
// its certificate, and wharfie still pulls (its certificate is signed by the test's
// system CA); the plan says so.
func TestK3sCATrustIsWider(t *testing.T) {
	fakeHub(t, "hubuser", "dckr_pat_judge")
	hub := registry.Registry{ID: "hub", Name: "Docker Hub", Kind: registry.KindDockerHub, TLS: withCA,
		Fields: map[string]string{"username": "hubuser", "password": "dckr_pat_judge"}}
	root, p := node(t, []registry.Registry{hub}, nodeconfig.K3s)
	if err := wharfiePull(t, root, nodeconfig.K3s, "docker.io/library/app:v1"); err != nil {
		t.Errorf("wharfie with ca_file of another CA: %v (it trusts that CA alone now? then drop the warning)", err)
	}
	if !warned(p, "docker.io", "also", "system") {
		t.Errorf("the plan does not say the system CAs are trusted too: %q", p.Warnings)
	}
}

// A verified registry on loopback with a port: wharfie's default endpoint for it is plain
// http (its localhost rule); the plan says so. The verdict: a TLS registry on loopback,
// trusted through the generated ca_file, is not reached.
func TestK3sLoopbackIsPlainHTTP(t *testing.T) {
	r := testenv.StartRegistry(t, testenv.WithTLS())
	ref := r.Push(t, "team/app:v1")
	root, p := node(t, []registry.Registry{reg("local", r.Host, registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(r.CAPEM)}, nil)}, nodeconfig.K3s)
	if err := wharfiePull(t, root, nodeconfig.K3s, ref); err == nil {
		t.Errorf("wharfie reached the loopback registry over https: drop the warning")
	}
	if !warned(p, r.Host, "loopback", "plain http") {
		t.Errorf("no warning for a loopback registry: %q", p.Warnings)
	}
}

// Skip-verify: wharfie reaches a registry whose certificate no CA vouches for over https
// without verification (insecure_skip_verify); the control, no registries.yaml, fails on
// the certificate. (Its transport speaks plain http only to an http:// endpoint, so the
// plan has no plain-http warning for it.)
func TestK3sSkipVerify(t *testing.T) {
	r := testenv.StartRegistry(t, testenv.WithTLS())
	r.Push(t, "team/app:v1")
	serveAs(t, "lab.internal:5000", r.Host)
	root, p := node(t, []registry.Registry{reg("lab", "lab.internal:5000", skipVerify, nil)}, nodeconfig.K3s)
	if err := wharfiePull(t, root, nodeconfig.K3s, "lab.internal:5000/team/app:v1"); err != nil {
		t.Errorf("wharfie with insecure_skip_verify: %v", err)
	}
	if err := wharfiePull(t, t.TempDir(), nodeconfig.K3s, "lab.internal:5000/team/app:v1"); err == nil || !strings.Contains(err.Error(), "x509") {
		t.Errorf("the control without registries.yaml: %v, want an x509 error", err)
	}
	if warned(p, "lab.internal:5000", "plain http") {
		t.Errorf("a plain-http warning for wharfie, which never retries over http: %q", p.Warnings)
	}
}
