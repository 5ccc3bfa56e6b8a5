package nodeconfig_test

import (
	"fmt"
	"os"

	"github.com/regcred/regcred/nodeconfig"
	"github.com/regcred/regcred/registry"
)

func ExampleGenerate() {
	regs := []registry.Registry{{
		ID: "hub-cache", Name: "Hub cache", Kind: registry.KindHarbor, Server: "harbor.example.com/dockerhub-proxy",
		Fields: map[string]string{"username": "robot$nodes", "password": "s3cret"},
		Mirror: &registry.Mirror{Of: "docker.io", Fallback: true},
	}}
	root, _ := os.MkdirTemp("", "node")
	defer os.RemoveAll(root)
	plan, err := nodeconfig.Generate(regs, nodeconfig.Containerd, nodeconfig.WithRoot(root))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range plan.Files {
		fmt.Println(f)
	}
	fmt.Printf("%s", plan.Files[0].Data)
	// Output:
	// /etc/containerd/certs.d/docker.io/hosts.toml (0644, 152 bytes)
	// /etc/containerd/config.toml (0644, 148 bytes)
	// server = 'https://registry-1.docker.io'
	//
	// [host.'https://harbor.example.com/v2/dockerhub-proxy']
	// capabilities = ['pull', 'resolve']
	// override_path = true
}

func ExampleDiff() {
	regs := []registry.Registry{{
		ID: "lab", Name: "Lab", Kind: registry.KindPublic, Server: "lab.example.com:5000",
		TLS: registry.TLS{Mode: registry.TLSInsecure},
	}}
	root, _ := os.MkdirTemp("", "node")
	defer os.RemoveAll(root)
	os.MkdirAll(root+"/etc/docker", 0o755)
	os.WriteFile(root+"/etc/docker/daemon.json", []byte("{\n  \"debug\": true\n}\n"), 0o644)

	plan, _ := nodeconfig.Generate(regs, nodeconfig.Docker, nodeconfig.WithRoot(root))
	n, _ := nodeconfig.Diff(os.Stdout, plan, root)
	fmt.Println(n, "file(s) would change")
	// Output:
	// --- a/etc/docker/daemon.json
	// +++ b/etc/docker/daemon.json
	// @@ -1,3 +1,6 @@
	//  {
	// -  "debug": true
	// +  "debug": true,
	// +  "insecure-registries": [
	// +    "lab.example.com:5000"
	// +  ]
	//  }
	// 1 file(s) would change
}
