package main

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/providers"
)

func init() {
	register(&command{
		name:    "sync",
		usage:   "sync --namespace NS[,NS...] [--kubeconfig FILE] [--context NAME] [--prune] [--patch-serviceaccount] [--serviceaccount NAME]... [--concurrency N] [--managed-by VALUE] [--team-label KEY] [--project-label KEY] [--host REGISTRY=HOST]... [REGISTRY...]",
		summary: "create or update the pull Secrets in a cluster's namespaces (only what changed), optionally patch ServiceAccounts and prune",
		run:     runSync,
	})
}

// csvFlag collects repeatable, comma-separated values.
type csvFlag []string

func (l *csvFlag) String() string { return strings.Join(*l, ",") }
func (l *csvFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func runSync(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sync")
	var namespaces, serviceAccounts csvFlag
	var hosts hostFlags
	fs.Var(&namespaces, "namespace", "target namespace(s), comma-separated or repeated (required)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file (default $KUBECONFIG, else ~/.kube/config, else in-cluster)")
	kubeContext := fs.String("context", "", "kubeconfig context (default the current one)")
	prune := fs.Bool("prune", false, "delete regcred's Secrets (with this --managed-by value) whose registry is not given (registries not named on the command line count as gone) or whose namespace is not targeted")
	patchDefault := fs.Bool("patch-serviceaccount", false, "add the Secrets to the imagePullSecrets of each namespace's default ServiceAccount")
	fs.Var(&serviceAccounts, "serviceaccount", "also patch this ServiceAccount (repeatable)")
	concurrency := fs.Int("concurrency", kube.DefaultConcurrency, "API writes in flight at once")
	managedBy := fs.String("managed-by", kube.DefaultManagedBy, "value of the app.kubernetes.io/managed-by label that marks regcred's Secrets")
	fs.Var(&hosts, "host", "REGISTRY=HOST: a concrete host for a wildcard registry (ECR, ACR); repeatable")
	teamLabel := fs.String("team-label", "", "namespace label whose value is the namespace's team: a registry scoped to teams gets its Secret only where it matches (without it, nowhere). Whoever may label a namespace may claim a team")
	projectLabel := fs.String("project-label", "", "namespace label whose value is the namespace's project, for registries scoped to projects (as --team-label)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(namespaces) == 0 {
		return usagef("--namespace is required")
	}
	if *concurrency < 1 {
		return usagef("--concurrency must be at least 1")
	}
	if *patchDefault {
		serviceAccounts = append(csvFlag{"default"}, serviceAccounts...)
	}
	regs, err := e.selectRegistries(fs.Args())
	if err != nil {
		return err
	}
	copts, err := hostOptions(hosts)
	if err != nil {
		return err
	}

	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if *kubeconfig != "" {
		rules.ExplicitPath = *kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: *kubeContext}).ClientConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	// The Syncer bounds its own concurrency; let client-go's limiter follow it.
	cfg.QPS, cfg.Burst = float32(20**concurrency), 20**concurrency
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	s := kube.NewSyncer(client,
		kube.WithProviderFactory(e.providerFactory(providers.WithKubeClient(client))),
		kube.WithDockerConfigOptions(copts...),
		kube.WithPrune(*prune),
		kube.WithServiceAccounts(serviceAccounts...),
		kube.WithConcurrency(*concurrency),
		kube.WithManagedBy(*managedBy),
		kube.WithScopeLabels(kube.ScopeLabels{Team: *teamLabel, Project: *projectLabel}),
		kube.WithLogger(e.logger),
	)
	res, err := s.Sync(ctx, regs, namespaces)
	if err != nil {
		return err
	}
	fmt.Fprint(e.stdout, res)
	fmt.Fprintf(e.stdout, "%d writes\n", res.Writes)
	if err := res.Err(); err != nil {
		return err
	}
	return nil
}
