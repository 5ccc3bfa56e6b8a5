package nodeconfig_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/nodeconfig"
	"github.com/regcred/regcred/registry"
)

// TestDockerdPullsThroughGeneratedMirror: a dockerd started with the generated
// daemon.json (merged into an operator's file whose own setting must survive) pulls
// library/app from Docker Hub's mirror: a docker-registry in proxy mode in front of an
// upstream on loopback. Docker Hub is unreachable here and the mirror's log shows it
// served the manifest. (dockerd 20.10 treats loopback as insecure and reads CAs only from
// /etc/docker/certs.d, so the CA files are proven with containerd and skopeo instead.)
func TestDockerdPullsThroughGeneratedMirror(t *testing.T) {
	upstream := testenv.StartRegistry(t)
	upstream.Push(t, "library/app:v1")
	mirror := testenv.StartMirror(t, upstream)

	root := t.TempDir()
	writeNode(t, root, nodeconfig.DockerDaemonJSON, `{"debug": true}`, 0o644)
	regs := []registry.Registry{{
		ID: "hub-cache", Name: "Hub cache", Kind: registry.KindCustom, Server: "http://" + mirror.Host,
		TLS: registry.TLS{Mode: registry.TLSInsecure}, Mirror: &registry.Mirror{Of: "docker.io", Fallback: true},
	}}
	p := apply(t, regs, nodeconfig.Docker, root)
	t.Logf("daemon.json:\n%s\nwarnings: %q", file(t, p, nodeconfig.DockerDaemonJSON).Data, p.Warnings)

	d := testenv.StartDockerWithConfig(t, filepath.Join(root, nodeconfig.DockerDaemonJSON))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	info, err := d.Client.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Debug {
		t.Errorf("the operator's debug setting was lost in the merge")
	}
	if info.RegistryConfig == nil || len(info.RegistryConfig.Mirrors) != 1 {
		b, _ := json.Marshal(info.RegistryConfig)
		t.Fatalf("dockerd's registry config: %s", b)
	}
	if out, err := d.CLI(ctx, t.TempDir(), nil, "pull", "app:v1"); err != nil {
		t.Fatalf("docker pull through the mirror: %v\n%s\ndockerd log:\n%s", err, out, d.Logs())
	}
	servedManifest(t, mirror, "/v2/library/app/manifests/v1")
}
