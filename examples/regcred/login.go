package main

import (
	"context"
	"fmt"

	"github.com/docker/docker/client"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/swarm"
)

func init() {
	register(&command{
		name:    "login",
		usage:   "login [--docker-host URL] [--server HOST] [--cli --docker-config DIR] REGISTRY",
		summary: "log a Docker daemon (engine /auth) or the docker CLI (into a DOCKER_CONFIG) in to a saved registry",
		run:     runLogin,
	})
}

func runLogin(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "login")
	dockerHost := fs.String("docker-host", "", "Docker daemon to ask (default $DOCKER_HOST, else the local socket)")
	server := fs.String("server", "", "registry host to log in to (required for wildcard registries such as ECR or ACR)")
	useCLI := fs.Bool("cli", false, "run `docker login --password-stdin` instead of asking the engine")
	dockerConfig := fs.String("docker-config", "", "with --cli: the DOCKER_CONFIG directory the CLI stores the login in (required)")
	dockerBin := fs.String("docker", "docker", "with --cli: the docker CLI to run")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("give exactly one saved registry (name or id)")
	}
	if *useCLI && *dockerConfig == "" {
		return usagef("--cli needs --docker-config DIR: regcred never changes your own ~/.docker behind your back (pass it explicitly if you mean it)")
	}
	if !*useCLI && *dockerConfig != "" {
		return usagef("--docker-config only applies with --cli")
	}
	regs, err := e.selectRegistries(fs.Args())
	if err != nil {
		return err
	}
	r := regs[0]
	host, err := loginHost(r, *server)
	if err != nil {
		return err
	}
	creds, err := registryCredentials(ctx, e, r)
	if err != nil {
		return err
	}
	if *useCLI {
		opts := []swarm.Option{swarm.WithTLS(r.TLS), swarm.WithDockerBinary(*dockerBin)}
		if *dockerHost != "" {
			opts = append(opts, swarm.WithEnv("DOCKER_HOST="+*dockerHost))
		}
		if err := swarm.CLILogin(ctx, *dockerConfig, host, creds, opts...); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Login Succeeded: %s (registry %q) stored in %s\n", swarm.ServerAddress(host), r.Name, *dockerConfig)
		return nil
	}
	cli, err := engineClient(*dockerHost)
	if err != nil {
		return err
	}
	defer cli.Close()
	res, err := swarm.Login(ctx, cli, host, creds, swarm.WithTLS(r.TLS))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: the daemon at %s reached %s with registry %q\n", res.Status, cli.DaemonHost(), swarm.ServerAddress(host), r.Name)
	return nil
}

// loginHost is the registry host to log in to: --server, else the record's host. A
// wildcard record needs --server.
func loginHost(r registry.Registry, override string) (string, error) {
	if override != "" {
		if _, err := registry.ParseServer(override); err != nil {
			return "", usagef("--server: %v", err)
		}
		return override, nil
	}
	s, err := r.ServerInfo()
	if err != nil {
		return "", fmt.Errorf("registry %q: %w", r.Name, err)
	}
	if s.Wildcard {
		return "", usagef("registry %q has the wildcard server %s: give the concrete host with --server", r.Name, s.Host)
	}
	return s.Host, nil
}

// registryCredentials resolves a record's credentials (fetching a token for token kinds).
func registryCredentials(ctx context.Context, e *env, r registry.Registry) (registry.Credentials, error) {
	p, err := e.providerFactory()(r)
	if err != nil {
		return registry.Credentials{}, err
	}
	return p.Credentials(ctx)
}

// engineClient connects to the Docker Engine API: host, else $DOCKER_HOST (and
// $DOCKER_TLS_VERIFY, $DOCKER_CERT_PATH), else the local socket, negotiating the API
// version with the daemon. The login, compose-pull and swarm-deploy commands share it.
func engineClient(host string) (*client.Client, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	c, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker engine client: %w", err)
	}
	return c, nil
}
