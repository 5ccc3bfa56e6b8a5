package e2e

import "fmt"

// The kubelet's configuration for regcred's credential provider plugin, as the tests run
// it (--image-credential-provider-config; the plugin's binary is in
// --image-credential-provider-bin-dir): the plugin reaches a cloud's token endpoint
// through the proxy and CA given in its environment.
func Example() {
	fmt.Print(providerConfig("/etc/regcred/registries.yaml",
		[]string{"registry.example.com", "*.dkr.ecr.*.amazonaws.com"},
		"HTTPS_PROXY=http://127.0.0.1:3128"))
	// Output:
	// apiVersion: kubelet.config.k8s.io/v1
	// kind: CredentialProviderConfig
	// providers:
	//   - name: regcred-credential-provider
	//     apiVersion: credentialprovider.kubelet.k8s.io/v1
	//     defaultCacheDuration: 1h
	//     args: ["--config=/etc/regcred/registries.yaml"]
	//     matchImages:
	//       - "registry.example.com"
	//       - "*.dkr.ecr.*.amazonaws.com"
	//     env:
	//       - {name: "HTTPS_PROXY", value: "http://127.0.0.1:3128"}
}
