// Command regcred is the command-line face of the library: validate a registries file, test
// each registry live, print the .dockerconfigjson or the Kubernetes Secret a platform would
// deploy, sync pull secrets into a cluster, log in and pre-pull for Swarm and Compose, write
// a node's registry mirrors, CAs and insecure registries (node-config), and run a
// self-contained demo.
//
// Usage:
//
//	regcred [-f FILE] [-v] COMMAND [flags]
//
// The registries file is -f FILE, else $REGCRED_CONFIG, else
// ~/.config/regcred/registries.yaml (see package registryfile for its format).
//
// Exit codes: 0 success; 1 the command failed (a connection test failed, a sync had
// failures, ...); 2 usage error (unknown command or flag); 3 the registries file is missing
// or invalid.
package main
