// Command docker-credential-regcred is a Docker credential helper backed by regcred's
// registries file: docker, docker compose, docker-compose, skopeo, podman and buildah get
// each registry's credentials from it, fresh short-lived tokens included (ECR, GCR/GAR, ACR,
// Kubernetes tokens are fetched when asked), and no password is ever stored in a docker
// config.
//
// Install it on PATH and name it in ~/.docker/config.json (or $DOCKER_CONFIG/config.json,
// or a containers auth.json) per registry:
//
//	{"credHelpers": {"ghcr.io": "regcred", "123456789012.dkr.ecr.eu-west-1.amazonaws.com": "regcred"}}
//
// or for every registry with "credsStore": "regcred" (then docker login/logout to other
// registries fail, see below).
//
// Docker runs helpers without flags, so the registries file is $REGCRED_CONFIG, else
// $XDG_CONFIG_HOME/regcred/registries.yaml, else ~/.config/regcred/registries.yaml (see
// package registryfile).
//
// The protocol is docker-credential-helpers': the action is the only argument.
//
//   - get: reads a server URL on stdin ("ghcr.io", "127.0.0.1:5000",
//     "https://index.docker.io/v1/") and writes {"ServerURL","Username","Secret"}. The
//     server is matched like an image reference against the saved registries (exact host,
//     path-scoped, wildcard). A registry with no saved credentials (type Public) or no match
//     answers "credentials not found in native keychain", so the client pulls anonymously.
//     Identity (refresh) tokens are answered with username "<token>", as docker expects.
//   - list: writes {server: username} for every saved registry with a concrete host
//     (wildcard servers are left out); it does not contact any token endpoint.
//   - store, erase: refused. The registries file is the single source of truth; `docker
//     login` and `docker logout` would otherwise seem to work and be silently ignored.
//     Change the registries file (or the platform's saved registry) instead.
//   - version: prints the helper's name and version.
//
// Limits: docker and containers/image ask a helper by registry host only, so a saved
// registry scoped to a repository path ("ghcr.io/myorg") is not served for the bare host
// (save one for the whole host to use it through the helper).
//
// Token cache: each get runs in a new process, so the short-lived tokens of token kinds
// (ECR, ACR with a tenant, GCR/GAR access tokens, Kubernetes tokens) are kept on disk
// between processes, in $XDG_CACHE_HOME/regcred/credhelper (else ~/.cache/regcred/credhelper):
// a 0700 directory, one 0600 file per registry keyed by the registries file, the registry
// ID and its version, and checked against a salted hash of the record, so an edited
// record misses. An entry is served until the refresh point of providers/cache (80% of
// the lifetime or 5 minutes before expiry), refetched after, and never served past its
// expiry; concurrent gets fetch one token (an advisory lock per entry). Static passwords
// are never written. Set REGCRED_CREDHELPER_CACHE=off to fetch on every get.
//
// Inputs are bounded: stdin at most 1 MiB (as the kubelet credential provider's request),
// a server URL at most 2 KiB, the registries file as package registryfile says (a
// regular file of at most 2 MiB; a FIFO or device is refused at once).
//
// Errors go to stdout (docker shows them) with exit status 1, and never contain a secret
// or echo the input.
package main
