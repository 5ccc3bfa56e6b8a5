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
//   - The root (WithRoot, Apply, Diff) is never left: every path component is resolved,
//     a symlink is followed only while it stays inside ("/" as the root lets absolute
//     links point anywhere), and one that leads out is ErrOutsideRoot; nothing outside is
//     read, written or chmod-ed. Directories Apply creates are 0755, whatever the umask.
//     Diff shows the node's own secrets (containerd's registry auth, a proxy password in
//     daemon.json) as REDACTED; Apply keeps them.
//
// # What each runtime does with the generated files
//
// Judged by the runtimes' own code: the loaders and resolvers of containerd 1.7.35 and
// 2.4.2, containers/image 5.36.2 (CRI-O, podman, skopeo), Docker 28.5.2's daemon.json
// loader and registry service, rancher/wharfie 0.7.1 (k3s/RKE2's registries.yaml), in the
// nested module nodeconfig/internal/judges (tests named J:...), and by the installed
// containerd 1.6.20, skopeo and dockerd 20.10 in this package (tests named I:...).
// "warns" means the plan says it in a warning; "refused" means Generate fails.
//
//	scenario                containerd 1.6/1.7/2.4             CRI-O/podman/skopeo           dockerd                          k3s/RKE2 (wharfie)
//	private CA              verified https, once; CA added     CA added to the system pool;  CA added to the system pool;     ca_file added to the system pool;
//	                        to the system pool; warns          warns                         warns                            warns
//	                        J:TestContainerdCATrustIsWider,    J:TestCRIOCATrust,            J:TestDockerCATrust              J:TestK3sCATrustIsWider
//	                        J:TestContainerdResolvesWithGene-  I:TestSkopeoHonoursMirror-
//	                        ratedCA, I:TestContainerdPrivateCA AndCertsD
//	skip-verify             https without verification, once,  https without verification,   https without verification,      https without verification
//	                        never http                         then plain http; warns        then plain http; warns           (a real pull)
//	                        J:TestContainerdSkipVerifyAnd-     J:TestCRIOSkipVerifyFalls-    J:TestDockerSkipVerifyFalls-     J:TestK3sSkipVerify
//	                        PlainHTTP                          BackToPlainHTTP (real pull)   BackToPlainHTTP
//	plain http (http://)    http only, once                    insecure endpoint             https skip-verify, then http     (not judged)
//	                        J:TestContainerdSkipVerifyAnd-     J:TestCRIOPullSources         J:TestDockerSkipVerifyFalls-
//	                        PlainHTTP                                                        BackToPlainHTTP
//	verified registry on    verified https, once (a hosts.toml (no special case)             skip-verify, then plain http     plain http with a port; warns
//	loopback                pins it; else skip-verify + http)                                (127.0.0.0/8); warns
//	                        J:TestContainerdVerifiedLoopback                                 J:TestDockerLoopbackIsInsecure   J:TestK3sLoopbackIsPlainHTTP
//	Docker Hub mirrors,     mirrors in order, each once; never mirrors in order; never       mirrors, then Docker Hub         mirrors, then Docker Hub
//	fallback off            pulls Docker Hub (push only)       Docker Hub                    always; warns                    always (wharfie); warns
//	                        J:TestContainerdMirrorsWithout-    J:TestCRIOPullSources,        J:TestDockerMirrors,             J:TestK3sWharfieAlwaysFallsBack
//	                        Fallback, I:TestContainerdFall-    I:TestSkopeoHonoursMirror-    I:TestDockerdPullsThrough-
//	                        backOffNeverPullsUpstream,         AndCertsD                     GeneratedMirror
//	                        I:TestContainerdPullThroughMirror
//	mirrors, fallback on    mirrors, then the upstream         mirrors, then the upstream    as above                         as above
//	                        J:TestContainerdMirrorsWithout-    J:TestCRIOPullSources
//	                        Fallback, I:TestContainerdFall-
//	                        backOffNeverPullsUpstream
//	mirror inside a         the project's API root             location with the path        left out; warns                  rewrite below the project, the
//	project (path)          (override_path)                                                  (unit tests)                     mirror's credentials and CA
//	                        J:TestContainerdProjectMirror      J:TestCRIOPullSources                                          J:TestK3sProjectMirror
//	mirror of another       as Docker Hub's                    as Docker Hub's               not used; warns                  (as Docker Hub's, not judged)
//	registry                                                                                 J:TestDockerMirrors
//	IPv6 registry           read by 1.7, 2.4 (server + empty   no image on it can be named   https skip-verify then http;     (not judged)
//	([fd00::1]:5000)        [host]); 1.7 ignored the old file  (reference parser); warns     certs.d found
//	                        J:TestContainerdIPv6Host           J:TestCRIOIPv6                J:TestDockerSkipVerifyFalls-
//	                                                                                         BackToPlainHTTP, J:TestDockerCATrust
//	IPv6 mirror             2.4 reads it; 1.6/1.7 cannot parse refused (every pull through   (not judged)                     (not judged)
//	                        the table name and ignore the      it would fail)
//	                        file; warns J:TestContainerdIPv6Host J:TestCRIOIPv6
//	containerd config.toml  1.6's CRI plugin starts with the   (a drop-in regcred owns)      daemon.json loads with every     (not in node files)
//	(merged)                merged file; with mirrors beside                                 other key kept
//	                        config_path it does not: refused                                 J:TestDockerMirrors,
//	                        I:TestContainerdPullThroughMirror,                               I:TestDockerdPullsThrough-
//	                        I:TestContainerdMirrorsInConfigTOML                              GeneratedMirror
//	Docker Hub credentials  (not in node files)                (not in node files)           (not in node files)              found under docker.io (wharfie
//	                                                                                                                          never reads registry-1.docker.io)
//	                                                                                                                          J:TestK3sDockerHubCredentials
package nodeconfig
