// Package registryfile reads the registries file that regcred's example binaries share (the
// CLI, the Docker credential helper, the kubelet credential provider): a YAML list of saved
// registries in the shape of the product documents:
//
//	registries:
//	  - name: My GHCR
//	    type: GHCR              # GHCR, Docker, ECR, ACR, GCR, GAR, Quay, Harbor, Custom, Public, Kubernetes
//	    url: ghcr.io            # optional where the type implies it; may also sit in credentials
//	    default: true
//	    credentials:
//	      username: myorg
//	      token: ${GHCR_TOKEN}  # any value may be ${ENV_VAR} or file:/path/to/secret
//	    tls:
//	      mode: ca              # secure (default), ca or insecure
//	      ca: file:/etc/regcred/ca.crt
//
// The top-level "registries:" key may be left out: a bare list is accepted too. Types are matched
// case-insensitively with the aliases of registry.ParseKind; credential field names match
// the kind's schema case-insensitively. Every entry is validated; errors name the file, the
// entry and the field. The file is read once; nothing here caches or watches it.
package registryfile
