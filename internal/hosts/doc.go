// Package hosts holds regcred's host rules, each written once: Docker Hub's names, the
// canonical form of a host, the host:port split and the wildcard pattern. registry (Server,
// CanonicalHost), registry/keychain, registry/transport, registry/conntest, dockerconfig
// and swarm all call these; none keeps a copy.
//
// Rules:
//   - A host is "host[:port]" as registry.ParseServer stores it: lowercase, IPv6 literals
//     in brackets, no scheme, no path.
//   - Docker Hub is docker.io, index.docker.io and registry-1.docker.io, with no port
//     (DockerHubAliases). docker/cli folds index.docker.io into docker.io
//     (normalizeIndexName) and sends Hub's credentials to registry-1.docker.io, its API
//     host; registry.hub.docker.com is not Hub: no Docker component treats it as one (a
//     "docker login registry.hub.docker.com" is stored under that host).
//   - Canonical is the one canonical form: lowercase, Hub's names fold into "docker.io",
//     IPv6 literals in their shortest form ("[0:0::1]:5000" is "[::1]:5000"). Two hosts
//     name the same registry when their canonical forms are equal.
//   - A wildcard pattern's "*" stands for exactly one non-empty DNS label, never for an IP
//     literal, and the port must be equal ("*.azurecr.io" matches "a.azurecr.io", not
//     "azurecr.io", "a.b.azurecr.io", ".azurecr.io" or "a.azurecr.io:5000"). This is the
//     kubelet credential provider's reading; kube/keychain.go keeps the kubelet's own glob
//     for its Secrets ("app*.example.com"), a different rule on purpose.
//   - Nothing here validates: registry.ParseServer does. Functions take what a parser or a
//     request gave and never fail; they allocate only when the answer differs from the input.
package hosts
