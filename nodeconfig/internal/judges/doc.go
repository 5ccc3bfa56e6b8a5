// Package judges holds no code of its own: its tests judge the files nodeconfig generates
// with each container runtime's own loader and resolution code, not with our reading of
// their documentation:
//
//	containerd 1.7.35, 2.4.2   remotes/docker/config ConfigureHosts + HostDirFromRoot (the CRI
//	                           plugin's and ctr --hosts-dir's loader) and the docker resolver
//	containers/image 5.36.2    pkg/sysregistriesv2 (pull sources), pkg/tlsclientconfig
//	                           (certs.d) and the docker transport (a real pull)
//	docker 28.5.2              daemon/config MergeDaemonConfigurations (daemon.json), the
//	                           registry service's pull endpoints, ReadCertsDirectory
//	rancher/wharfie 0.7.1      pkg/registries (k3s/RKE2 registries.yaml) with real pulls
//
// The rules:
//   - A disagreement between what the user asked for and what the runtime does is a test
//     failure until nodeconfig generates what makes the runtime do it, or refuses, or
//     warns in the plan; a test that pins a runtime's behaviour fails when the runtime
//     changes it ("drop the warning").
//   - Real servers where a pull decides (docker-registry through internal/testenv, an
//     in-memory registry as Docker Hub); Docker Hub's names reach a server of the test's
//     through a CONNECT proxy (HTTPS_PROXY) and a system trust store (SSL_CERT_FILE) that
//     TestMain sets before any code reads them.
//   - A module of its own, so that importers of regcred never inherit these runtimes.
//     Run: cd nodeconfig/internal/judges && CGO_ENABLED=0 GOFLAGS=-mod=mod go test ./...
//     (CGO_ENABLED=0: two storage modules of containers/image define the same C symbol).
//
// nodeconfig's package doc has the table these tests back: scenario x runtime -> what the
// runtime does.
package judges
