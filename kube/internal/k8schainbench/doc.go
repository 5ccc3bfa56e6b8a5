// Package k8schainbench benchmarks kube.Keychain side by side with go-containerregistry's
// in-memory k8schain (pkg/authn/kubernetes NewFromPullSecrets) over the same 1,000 pull
// Secrets (kube/internal/benchsecrets).
//
// It is its own module: k8schain needs newer k8s.io modules than regcred does, and keeping
// it here means importers of regcred never inherit that bump. The main module's
// "go test ./..." does not enter it; run it from this directory (-mod=mod lets go add the
// go.sum lines that a newer main go.mod needs):
//
//	cd kube/internal/k8schainbench && GOFLAGS=-mod=mod go test -run '^$' -bench . -benchmem
package k8schainbench
