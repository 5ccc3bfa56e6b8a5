package main

import (
	"context"
	"strings"
	"testing"
	"time"

	dockerswarm "github.com/docker/docker/api/types/swarm"

	"github.com/regcred/regcred/internal/testenv"
)

func TestSwarmDeployCommand(t *testing.T) {
	d := testenv.StartDocker(t)
	d.SwarmInit(t)
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth("cli-user", "Cli-pa55word"))
	image := reg.Push(t, "cli/service:v1")
	file := registriesFile(t, reg)

	code, stdout, stderr := runCLI(t, "-f", file, "swarm-deploy", "--docker-host", d.Host, "--name", "cli-web", "--env", "MODE=test", image, "serve")
	if code != 0 || !strings.Contains(stderr, `registry auth of "team"`) {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	id := strings.TrimSpace(stdout)
	t.Cleanup(func() { d.Client.ServiceRemove(context.Background(), id); d.RemoveImage(t, image) })
	deadline := time.Now().Add(2 * time.Minute)
	for !d.HasImage(t, image) {
		if time.Now().After(deadline) {
			t.Fatal("the service's task never pulled its image")
		}
		time.Sleep(200 * time.Millisecond)
	}

	ctx := context.Background()
	before, _, err := d.Client.ServiceInspectWithRaw(ctx, id, dockerswarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, "-f", file, "swarm-deploy", "--docker-host", d.Host, "--rotate", "cli-web")
	if code != 0 || !strings.Contains(stdout, "registry auth rotated") {
		t.Fatalf("rotate: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	after, _, err := d.Client.ServiceInspectWithRaw(ctx, id, dockerswarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.Version.Index <= before.Version.Index || after.Spec.TaskTemplate.ContainerSpec.Image != before.Spec.TaskTemplate.ContainerSpec.Image {
		t.Errorf("rotation: version %d -> %d, image %q -> %q", before.Version.Index, after.Version.Index,
			before.Spec.TaskTemplate.ContainerSpec.Image, after.Spec.TaskTemplate.ContainerSpec.Image)
	}
	if code, _, stderr := runCLI(t, "-f", file, "swarm-deploy", "--docker-host", d.Host); code != 2 {
		t.Errorf("no image: exit %d, want 2 (%s)", code, stderr)
	}
}

// TestSwarmDeployKeepsSecureRecordOffHTTP: swarm-deploy with a secure record whose registry
// answers in plain HTTP creates no service: the daemon would pull over http with the
// credentials.
func TestSwarmDeployKeepsSecureRecordOffHTTP(t *testing.T) {
	d := testenv.StartDocker(t)
	d.SwarmInit(t)
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth("cli-user", "Cli-pa55word"))
	image := reg.Push(t, "cli/locked:v1")
	file := lockedFile(t, reg)
	code, stdout, stderr := runCLI(t, "-f", file, "swarm-deploy", "--docker-host", d.Host, "--name", "cli-locked", image)
	if code != 1 || !strings.Contains(stderr, "http registry in secure-only mode") {
		t.Errorf("exit %d, want 1 and the refusal\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if _, _, err := d.Client.ServiceInspectWithRaw(context.Background(), "cli-locked", dockerswarm.ServiceInspectOptions{}); err == nil {
		d.Client.ServiceRemove(context.Background(), "cli-locked")
		t.Error("service cli-locked was created with the credentials of a secure record on a plain-HTTP registry")
	}
}
