package nodeconfig_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/nodeconfig"
	"github.com/regcred/regcred/registry"
)

// skopeoNode runs skopeo as a node's containers/image tools would: the generated
// registries.conf.d and certs.d trees are copied to where containers/image looks for a
// user ($HOME/.config/containers/...; it does not follow a symlinked drop-in directory),
// and the main registries.conf is the operator's.
func skopeoNode(t *testing.T, root string, args ...string) (string, error) {
	t.Helper()
	bin := testenv.Skopeo(t)
	home := t.TempDir()
	conf := filepath.Join(home, ".config", "containers")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(conf, os.DirFS(filepath.Join(root, "etc/containers"))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--registries-conf", filepath.Join(root, nodeconfig.CRIOMainConf)}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestSkopeoHonoursMirrorAndCertsD: skopeo inspects docker.io/library/app through the
// generated registries.conf mirror (a proxy mirror with a private CA, in front of an
// upstream on loopback) trusting the mirror through the generated certs.d. Docker Hub is
// unreachable here, so only the mirror can answer; the same files generated from another
// CA fail on the certificate, so the generated CA file is what was trusted.
func TestSkopeoHonoursMirrorAndCertsD(t *testing.T) {
	upstream := testenv.StartRegistry(t)
	upstream.Push(t, "library/app:v1")
	mirror := testenv.StartMirror(t, upstream, testenv.WithTLS())
	regs := []registry.Registry{{
		ID: "hub-cache", Name: "Hub cache", Kind: registry.KindCustom, Server: mirror.Host,
		TLS:    registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(mirror.CAPEM)},
		Mirror: &registry.Mirror{Of: "docker.io"},
	}}
	operator := "# the operator's file\nunqualified-search-registries = [\"docker.io\"]\n"

	other := t.TempDir()
	writeNode(t, other, nodeconfig.CRIOMainConf, operator, 0o644)
	bad := append([]registry.Registry(nil), regs...)
	bad[0].TLS.CABundle = string(testenv.NewCA(t).CertPEM)
	apply(t, bad, nodeconfig.CRIO, other)
	if out, err := skopeoNode(t, other, "inspect", "--raw", "docker://docker.io/library/app:v1"); err == nil || !strings.Contains(out, "x509") {
		t.Fatalf("with another CA skopeo should fail on the mirror's certificate; got %v\n%s", err, out)
	}

	root := t.TempDir()
	writeNode(t, root, nodeconfig.CRIOMainConf, operator, 0o644)
	apply(t, regs, nodeconfig.CRIO, root)
	out, err := skopeoNode(t, root, "inspect", "--raw", "docker://docker.io/library/app:v1")
	if err != nil {
		t.Fatalf("skopeo inspect through the mirror: %v\n%s", err, out)
	}
	if !strings.Contains(out, "schemaVersion") {
		t.Errorf("no manifest: %s", out)
	}
	servedManifest(t, mirror, "/v2/library/app/manifests/v1")
	if got := readNode(t, root, nodeconfig.CRIOMainConf); string(got) != operator {
		t.Errorf("the operator's registries.conf changed:\n%s", got)
	}
}
