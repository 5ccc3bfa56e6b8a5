package judges

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/containerd/v2/core/remotes/docker/config"

	"github.com/regcred/regcred/nodeconfig"
	"github.com/regcred/regcred/registry"
)

// Two mirrors of Docker Hub without fallback, as containerd 2.x's own hosts loader reads
// the generated hosts.toml: each mirror once, in order, and Docker Hub for pushes only.
func Example_containerdPullOrder() {
	root, _ := os.MkdirTemp("", "judges-example")
	defer os.RemoveAll(root)
	regs := []registry.Registry{
		{ID: "a", Name: "A", Kind: registry.KindCustom, Server: "mirror-a.internal", Mirror: &registry.Mirror{Of: "docker.io"}},
		{ID: "b", Name: "B", Kind: registry.KindCustom, Server: "mirror-b.internal", Mirror: &registry.Mirror{Of: "docker.io", Order: 1}},
	}
	p, err := nodeconfig.Generate(regs, nodeconfig.Containerd, nodeconfig.WithRoot(root))
	if err == nil {
		_, err = nodeconfig.Apply(p, root)
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	hosts, err := config.ConfigureHosts(context.Background(), config.HostOptions{
		HostDir: config.HostDirFromRoot(filepath.Join(root, "etc/containerd/certs.d")),
	})("docker.io")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range hosts {
		fmt.Printf("%s://%s%s pull=%v push=%v\n", h.Scheme, h.Host, h.Path, h.Capabilities.Has(docker.HostCapabilityPull), h.Capabilities.Has(docker.HostCapabilityPush))
	}
	// Output:
	// https://mirror-a.internal/v2 pull=true push=false
	// https://mirror-b.internal/v2 pull=true push=false
	// https://registry-1.docker.io/v2 pull=false push=true
}
