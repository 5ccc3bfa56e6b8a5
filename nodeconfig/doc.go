// Package nodeconfig generates the node-level registry configuration that credentials
// alone do not give a node: pull-through mirrors, private CAs and insecure (skip-verify or
// plain-http) registries, in each container runtime's own format, from the saved
// registries (the Catalog, or the registries file).
//
//	containerd   <config_path>/<host[:port]>/hosts.toml (+ CA files beside it), and
//	             config_path in /etc/containerd/config.toml for the CRI plugin
//	docker       /etc/docker/daemon.json: registry-mirrors (Docker Hub) and
//	             insecure-registries, merged; /etc/docker/certs.d/<host[:port]>/ca.crt
//	crio         /etc/containers/registries.conf.d/50-regcred.conf (registries.conf v2;
//	             CRI-O, podman, skopeo, buildah); /etc/containers/certs.d/<host>/ca.crt
//	k3s, rke2    /etc/rancher/{k3s,rke2}/registries.yaml (mirrors; configs with auth and
//	             tls), CA files under certs.d beside it
//
// Generate builds a Plan (files, warnings, notes) and writes nothing; Diff prints what
// Apply would change as a unified diff; Apply writes atomically. The rules:
//
//   - Mirrors (registry.Mirror) are tried in Order, then the upstream only with Fallback.
//     Where a runtime cannot honour that (Docker always falls back to Docker Hub and has
//     mirrors for Docker Hub only; k3s needs a setting of its own), the plan warns.
//   - Modes: what daemons and unprivileged tools read (hosts.toml, CA certificates, the
//     registries.conf drop-in, daemon.json) is 0644, with 0755 directories: rootless
//     podman and skopeo read /etc/containers as their user, and none of it is secret. A
//     file with credentials (registries.yaml) is 0600, and Diff never shows its secrets.
//   - Existing files are merged, not replaced: daemon.json keeps every other key, in its
//     place, and entries of its lists that regcred did not generate (with a warning);
//     containerd's config.toml keeps every setting (re-encoded: comments are not kept, and
//     a warning says so). CRI-O gets a drop-in regcred owns whole, so the operator's
//     registries.conf is never rewritten.
//   - Credentials go only where the format carries them (k3s/RKE2). Token kinds (ECR,
//     GCR/GAR, ACR with a tenant, Kubernetes) are refused there with ErrTokenKind: a token
//     written into a file goes stale.
//   - A plain-http registry or mirror is one whose url says http:// (with the insecure TLS
//     mode); an insecure registry without a scheme is https with verification off
//     (skip_verify, insecure_skip_verify), which is what each runtime does with it.
//   - Bad input fails with an error naming the registry and field: a mirror loop, a mirror
//     of an unknown registry, a CA bundle that does not parse, two registries on one host
//     that nodes would have to reach two ways. An insecure mirror of a verified upstream is
//     allowed, with a warning.
package nodeconfig
