package judges

import (
	"context"
	"crypto/tls"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containers/image/v5/docker"
	"github.com/containers/image/v5/docker/reference"
	"github.com/containers/image/v5/pkg/sysregistriesv2"
	"github.com/containers/image/v5/pkg/tlsclientconfig"
	"github.com/containers/image/v5/types"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/nodeconfig"
	"github.com/regcred/regcred/registry"
)

// crioSys is the SystemContext of a CRI-O, podman or skopeo on the node under root:
// /etc/containers/registries.conf(.d) and /etc/containers/certs.d are read there.
func crioSys(root string) *types.SystemContext {
	return &types.SystemContext{RootForImplicitAbsolutePaths: root}
}

// pullSources is where containers/image pulls ref from, in order ("insecure" marks an
// endpoint without TLS verification).
func pullSources(t *testing.T, root, ref string) []string {
	t.Helper()
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		t.Fatal(err)
	}
	r, err := sysregistriesv2.FindRegistry(crioSys(root), named.String())
	if err != nil {
		t.Fatalf("containers/image reads the generated registries.conf: %v", err)
	}
	if r == nil {
		return []string{named.String()}
	}
	srcs, err := r.PullSourcesFromReference(named)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range srcs {
		e := s.Reference.String()
		if s.Endpoint.Insecure {
			e += " insecure"
		}
		out = append(out, e)
	}
	return out
}

// Mirrors in order, each once; the upstream last only with fallback; a mirror inside a
// project gets the repository below its path.
func TestCRIOPullSources(t *testing.T) {
	regs := []registry.Registry{
		reg("m1", "mirror-a.internal", registry.TLS{}, &registry.Mirror{Of: "docker.io"}),
		reg("m2", "harbor.internal/hub-proxy", withCA, &registry.Mirror{Of: "docker.io", Order: 1}),
		reg("m3", "http://plain.internal:5000", skipVerify, &registry.Mirror{Of: "docker.io", Order: 2}),
	}
	for _, fallback := range []bool{false, true} {
		for i := range regs {
			regs[i].Mirror.Fallback = fallback
		}
		root, _ := node(t, regs, nodeconfig.CRIO)
		want := []string{
			"mirror-a.internal/library/app:v1",
			"harbor.internal/hub-proxy/library/app:v1",
			"plain.internal:5000/library/app:v1 insecure",
		}
		if fallback {
			want = append(want, "docker.io/library/app:v1")
		}
		if got := pullSources(t, root, "app:v1"); !slices.Equal(got, want) {
			t.Errorf("fallback %v: containers/image pulls from %q, want %q", fallback, got, want)
		}
	}
}

// An IPv6 literal: containers/image's own reference parser refuses an image on one, so
// the plan warns for a registry and refuses a mirror (before: the mirror without
// fallback became docker.io's location, and every Docker Hub pull failed with "rewriting
// reference: invalid reference format").
func TestCRIOIPv6(t *testing.T) {
	if _, err := reference.ParseNormalizedNamed("[fd00::1]:5000/team/app:v1"); err == nil {
		t.Errorf("containers/image now parses an IPv6 registry: the warning and the refusal are obsolete")
	}
	_, p := node(t, []registry.Registry{reg("v6", "[fd00::1]:5000", skipVerify, nil)}, nodeconfig.CRIO)
	if !warned(p, "[fd00::1]:5000", "IPv6", "cannot") {
		t.Errorf("no warning for an IPv6 registry: %q", p.Warnings)
	}
	_, err := nodeconfig.Generate([]registry.Registry{reg("v6m", "[fd00::2]:5000", withCA, &registry.Mirror{Of: "docker.io"})}, nodeconfig.CRIO, nodeconfig.WithRoot(t.TempDir()))
	if !errors.Is(err, nodeconfig.ErrInvalid) || !strings.Contains(err.Error(), "IPv6") {
		t.Errorf("an IPv6 mirror for CRI-O: %v, want a refusal", err)
	}
}

// certs.d: containers/image adds the CA to the system pool, as every runtime does, and
// the plan says so.
func TestCRIOCATrust(t *testing.T) {
	root, p := node(t, []registry.Registry{reg("private", "registry.internal:5443", withCA, nil)}, nodeconfig.CRIO)
	tlsc := &tls.Config{}
	if err := tlsclientconfig.SetupCertificates(filepath.Join(root, "etc/containers/certs.d/registry.internal:5443"), tlsc); err != nil {
		t.Fatal(err)
	}
	if got := trustOf(tlsc.RootCAs, testCA.CertPEM); got != "system+ours" {
		t.Errorf("containers/image trusts %s", got)
	}
	if !warned(p, "registry.internal:5443", "also", "system") {
		t.Errorf("the plan does not say the system CAs are trusted too: %q", p.Warnings)
	}
}

// Skip-verify (a registry saved without http://): containers/image's docker client,
// given insecure = true, retries over plain http when https fails. A registry that
// speaks only http is reached, by the real client, with the files generated for
// skip-verify; the plan says so. The control: verified TLS (no drop-in) fails.
func TestCRIOSkipVerifyFallsBackToPlainHTTP(t *testing.T) {
	r := testenv.StartRegistry(t)
	ref := r.Push(t, "team/app:v1")
	manifest := func(root string) error {
		iref, err := docker.ParseReference("//" + ref)
		if err != nil {
			return err
		}
		src, err := iref.NewImageSource(context.Background(), crioSys(root))
		if err != nil {
			return err
		}
		defer src.Close()
		_, _, err = src.GetManifest(context.Background(), nil)
		return err
	}
	if err := manifest(t.TempDir()); err == nil {
		t.Fatalf("the control pulled over http without any node file")
	}
	root, p := node(t, []registry.Registry{reg("lab", r.Host, skipVerify, nil)}, nodeconfig.CRIO)
	if err := manifest(root); err != nil {
		t.Fatalf("containers/image with insecure = true: %v (the http fallback is gone? then drop the warning)", err)
	}
	if !warned(p, r.Host, "plain http") {
		t.Errorf("the plan does not say CRI-O, podman and skopeo retry %s over plain http: %q", r.Host, p.Warnings)
	}
}
