// Package judges holds no code: its tests judge the files nodeconfig generates with each
// container runtime's own loader and resolution code (containerd 1.7 and 2.x hosts
// directory loaders and resolvers, containers/image's sysregistriesv2 and docker client,
// the Docker daemon's config loader and registry service, wharfie's registries for
// k3s/RKE2). It is a module of its own so that importers of regcred never inherit those
// runtimes. Run: cd nodeconfig/internal/judges && CGO_ENABLED=0 GOFLAGS=-mod=mod go test ./...
package judges
