package main

import (
	"context"
	"fmt"
	"strings"

	dockerswarm "github.com/docker/docker/api/types/swarm"

	"github.com/regcred/regcred/compose"
	"github.com/regcred/regcred/registry"
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
		auth, regName, err := imageAuth(ctx, kc, image)
		if err != nil {
			return err
		}
		if auth == "" {
			return fmt.Errorf("no saved registry matches %s: nothing to rotate (%w)", image, registry.ErrNotFound)
		}
		warnings, err := swarm.UpdateServiceAuth(ctx, cli, *rotate, auth)
		if err != nil {
			return err
		}
		printWarnings(e, warnings)
		fmt.Fprintf(e.stdout, "service %s: registry auth rotated to the current credentials of %q\n", *rotate, regName)
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
	auth, regName, err := imageAuth(ctx, kc, image)
	if err != nil {
		return err
	}
	spec := dockerswarm.ServiceSpec{
		Annotations: dockerswarm.Annotations{Name: *name},
		TaskTemplate: dockerswarm.TaskSpec{
			ContainerSpec: &dockerswarm.ContainerSpec{Image: image, Args: fs.Args()[1:], Env: envs},
		},
		Mode: dockerswarm.ServiceMode{Replicated: &dockerswarm.ReplicatedService{Replicas: replicas}},
	}
	id, warnings, err := swarm.CreateService(ctx, cli, spec, auth, swarm.WithResolveImage(*resolve))
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

// imageAuth returns the X-Registry-Auth for image's saved registry and its name; both ""
// when none matches (public image).
func imageAuth(ctx context.Context, kc *registry.Keychain, image string) (auth, name string, err error) {
	_, host, err := compose.NormalizeRef(image)
	if err != nil {
		return "", "", usagef("image %q: %v", image, err)
	}
	c, r, err := kc.Credentials(ctx, image)
	if err != nil {
		return "", "", err
	}
	if r.Name == "" && r.ID == "" || c.Anonymous() {
		return "", "", nil
	}
	auth, err = swarm.EncodeAuth(c, host)
	return auth, r.Name, err
}

func printWarnings(e *env, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", strings.ReplaceAll(w, "\n", " "))
	}
}
