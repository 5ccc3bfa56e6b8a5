package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

func init() {
	register(&command{
		name:    "secret",
		usage:   "secret --namespace NS [--name NAME] [--host REGISTRY=HOST]... [REGISTRY...]",
		summary: "print the Kubernetes pull Secret(s) for a namespace as YAML, for kubectl apply -f -",
		run:     runSecret,
	})
}

// runSecret prints one kubernetes.io/dockerconfigjson Secret per registry (named
// registry-secret-{id}), or with --name a single Secret holding them all. Public registries
// need no Secret and are left out.
func runSecret(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "secret")
	namespace := fs.String("namespace", "", "the namespace of the Secret (required)")
	name := fs.String("name", "", "write ONE Secret with this name holding every registry, instead of one per registry")
	var hosts hostFlags
	fs.Var(&hosts, "host", "REGISTRY=HOST: a concrete host for a wildcard registry (ECR, ACR); repeatable")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *namespace == "" {
		return usagef("--namespace is required")
	}
	regs, err := e.selectRegistries(fs.Args())
	if err != nil {
		return err
	}
	copts, err := hostOptions(hosts)
	if err != nil {
		return err
	}
	opts := []kube.Option{kube.WithProviderFactory(e.providerFactory()), kube.WithDockerConfigOptions(copts...)}
	var secrets []*corev1.Secret
	if *name != "" {
		s, err := kube.BuildCombined(ctx, *namespace, *name, regs, opts...)
		if err != nil {
			return err
		}
		secrets = append(secrets, s)
	} else {
		for _, r := range regs {
			s, err := kube.Build(ctx, *namespace, r, opts...)
			if errors.Is(err, registry.ErrNotFound) {
				e.logger.Debug("no secret for a registry without credentials", "registry", r.Name)
				continue
			}
			if err != nil {
				return err
			}
			secrets = append(secrets, s)
		}
	}
	if len(secrets) == 0 {
		return fmt.Errorf("no registry with credentials to write a secret for (%w)", registry.ErrNotFound)
	}
	for i, s := range secrets {
		s.TypeMeta.APIVersion, s.TypeMeta.Kind = "v1", "Secret"
		b, err := yaml.Marshal(s)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(e.stdout, "---")
		}
		// creationTimestamp: null is noise for kubectl apply.
		fmt.Fprint(e.stdout, strings.Replace(string(b), "  creationTimestamp: null\n", "", 1))
	}
	return nil
}

// hostOptions turns --host REGISTRY=HOST flags into dockerconfig options.
func hostOptions(hosts hostFlags) ([]dockerconfig.Option, error) {
	var opts []dockerconfig.Option
	for _, h := range hosts {
		name, host, ok := strings.Cut(h, "=")
		if !ok || name == "" || host == "" {
			return nil, usagef("--host %q: want REGISTRY=HOST", h)
		}
		opts = append(opts, dockerconfig.WithHost(name, host))
	}
	return opts, nil
}
