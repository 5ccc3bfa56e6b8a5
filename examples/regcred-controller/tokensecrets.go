package main

import (
	"context"
	"log/slog"

	"k8s.io/client-go/kubernetes"

	"github.com/regcred/regcred/kube/tokensecret"
)

// tokenSecrets is the leader task of --token-secrets: it fills and refreshes the pull
// Secrets users annotate with a ServiceAccount of their namespace (seed 004; package
// kube/tokensecret), for the Catalog's Kubernetes-token registry. Its identity needs, in
// the namespaces it serves, update on those Secrets, get on serviceaccounts, create on
// serviceaccounts/token and create on events.
func tokenSecrets(regs tokensecret.Registries, client kubernetes.Interface, log *slog.Logger) func(context.Context) error {
	return tokensecret.New(client, regs, tokensecret.WithLogger(log)).Run
}
