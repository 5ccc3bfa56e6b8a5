package main

import (
	"context"
	"fmt"
	"strings"

	dockerswarm "github.com/docker/docker/api/types/swarm"

	"github.com/regcred/regcred/compose"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/keychain"
	"github.com/regcred/regcred/swarm"
)

func init() {
	register(&command{
		name:    "swarm-deploy",
		usage:   "swarm-deploy [--docker-host URL] [--name NAME] [--replicas N] [--env K=V]... IMAGE [ARG...] | swarm-deploy --rotate SERVICE",
		summary: "create a swarm service with its registry's credentials (--with-registry-auth), or rotate a service's registry auth",
		run:     runSwarmDeploy,
	})
}

func runSwarmDeploy(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "swarm-deploy")
	dockerHost := fs.String("docker-host", "", "swarm manager (default $DOCKER_HOST, else the local socket)")
	name := fs.String("name", "", "service name (default: the daemon picks one)")
	replicas := fs.Uint64("replicas", 1, "number of tasks")
	rotate := fs.String("rotate", "", "update SERVICE's registry auth with the current credentials, changing nothing else")
	resolve := fs.Bool("resolve-image", false, "pin the image to its digest through the registry, as docker service create does")
	var envs listFlag
	fs.Var(&envs, "env", "K=V environment variable for the tasks; repeatable")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	kc, err := e.keychain()
	if err != nil {
		return err
	}
	cli, err := engineClient(*dockerHost)
	if err != nil {
		return err
	}
	defer cli.Close()

	if *rotate != "" {
		if fs.NArg() != 0 || *name != "" || len(envs) > 0 {
			return usagef("--rotate takes only the service")
		}
		svc, _, err := cli.ServiceInspectWithRaw(ctx, *rotate, dockerswarm.ServiceInspectOptions{})
		if err != nil {
			return fmt.Errorf("inspect service %s: %w", *rotate, err)
		}
		if svc.Spec.TaskTemplate.ContainerSpec == nil {
			return fmt.Errorf("service %s has no container image", *rotate)
		}
		image := svc.Spec.TaskTemplate.ContainerSpec.Image
		auth, rec, err := imageAuth(ctx, kc, image)
		if err != nil {
			return err
		}
		if auth == "" {
			return fmt.Errorf("no saved registry matches %s: nothing to rotate (%w)", image, registry.ErrNotFound)
		}
		warnings, err := swarm.UpdateServiceAuth(ctx, cli, *rotate, auth, swarm.WithTLS(rec.TLS))
		if err != nil {
			return err
		}
		printWarnings(e, warnings)
		fmt.Fprintf(e.stdout, "service %s: registry auth rotated to the current credentials of %q\n", *rotate, rec.Name)
		return nil
	}

	if fs.NArg() < 1 {
		return usagef("give the IMAGE to deploy")
	}
	image := fs.Arg(0)
	for _, kv := range envs {
		if !strings.Contains(kv, "=") {
			return usagef("--env %q: want K=V", kv)
		}
	}
	auth, rec, err := imageAuth(ctx, kc, image)
	if err != nil {
		return err
	}
	regName := rec.Name
	spec := dockerswarm.ServiceSpec{
		Annotations: dockerswarm.Annotations{Name: *name},
		TaskTemplate: dockerswarm.TaskSpec{
			ContainerSpec: &dockerswarm.ContainerSpec{Image: image, Args: fs.Args()[1:], Env: envs},
		},
		Mode: dockerswarm.ServiceMode{Replicated: &dockerswarm.ReplicatedService{Replicas: replicas}},
	}
	id, warnings, err := swarm.CreateService(ctx, cli, spec, auth, swarm.WithTLS(rec.TLS), swarm.WithResolveImage(*resolve))
	if err != nil {
		return err
	}
	printWarnings(e, warnings)
	if regName == "" {
		fmt.Fprintf(e.stderr, "regcred: no saved registry matches %s; the service pulls anonymously\n", image)
		fmt.Fprintf(e.stdout, "%s\n", id)
		return nil
	}
	fmt.Fprintf(e.stdout, "%s\n", id)
	fmt.Fprintf(e.stderr, "regcred: service %s created with the registry auth of %q\n", id, regName)
	return nil
}

// imageAuth returns the X-Registry-Auth for image's saved registry and that registry (its
// TLS settings go to the swarm calls, which check them before the daemon gets the auth);
// "" and a zero record when none matches (public image).
func imageAuth(ctx context.Context, kc *keychain.Keychain, image string) (string, registry.Registry, error) {
	_, host, err := compose.NormalizeRef(image)
	if err != nil {
		return "", registry.Registry{}, usagef("image %q: %v", image, err)
	}
	c, r, err := kc.Credentials(ctx, image)
	if err != nil {
		return "", registry.Registry{}, err
	}
	if r.Name == "" && r.ID == "" || c.Anonymous() {
		return "", registry.Registry{}, nil
	}
	auth, err := swarm.EncodeAuth(c, host)
	return auth, r, err
}

func printWarnings(e *env, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w) // swarm bounds and escapes the daemon's warnings
	}
}
