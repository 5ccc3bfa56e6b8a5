package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regcred/regcred/internal/testenv"
)

func TestComposePullCommand(t *testing.T) {
	d := testenv.StartDocker(t)
	regA := testenv.StartRegistry(t, testenv.WithBasicAuth("cli-user", "Cli-pa55word"))
	regB := testenv.StartRegistry(t)
	web := regA.Push(t, "cli/web:v1")
	db := regB.Push(t, "cli/db:v1")
	t.Cleanup(func() { d.RemoveImage(t, web); d.RemoveImage(t, db) })
	file := registriesFile(t, regA)
	dir := t.TempDir()
	project := filepath.Join(dir, "compose.yaml")
	os.WriteFile(project, []byte(fmt.Sprintf("services:\n  web: {image: %q}\n  db: {image: %q}\n  assets: {build: ./assets}\n", web, db)), 0o600)
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte(fmt.Sprintf("services:\n  web: {image: %q}\n  gone: {image: %q}\n", web, regA.Host+"/cli/gone:v1")), 0o600)

	t.Run("engine", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "-f", file, "compose-pull", "--docker-host", d.Host, "-f", project)
		if code != 0 || !strings.Contains(stdout, "2 pulled, 0 already present, 0 failed, 1 services skipped") {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
		if !strings.Contains(stderr, "pulling  "+web) || !strings.Contains(stderr, "skip     assets") {
			t.Errorf("no progress display:\n%s", stderr)
		}
		if !d.HasImage(t, web) || !d.HasImage(t, db) {
			t.Error("images not in the daemon")
		}
	})
	t.Run("a missing image fails alone", func(t *testing.T) {
		d.RemoveImage(t, web)
		code, stdout, stderr := runCLI(t, "-f", file, "compose-pull", "--docker-host", d.Host, "-f", broken)
		if code != 1 || !strings.Contains(stderr, "FAILED   "+regA.Host+"/cli/gone:v1") || !strings.Contains(stdout, "1 pulled") {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
	})
	t.Run("via docker-compose with an isolated DOCKER_CONFIG", func(t *testing.T) {
		testenv.LookPath(t, "docker-compose", "docker-compose")
		d.RemoveImage(t, web)
		t.Setenv("HOME", t.TempDir())
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp) // where the isolated DOCKER_CONFIG is made
		code, stdout, stderr := runCLI(t, "-f", file, "compose-pull", "--via", "docker-compose", "--docker-host", d.Host, "-f", project)
		if code != 0 || !d.HasImage(t, web) {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Errorf("the isolated DOCKER_CONFIG was left behind: %v", left)
		}
	})
	t.Run("bad compose file", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.yaml")
		os.WriteFile(bad, []byte("services: [\n"), 0o600)
		code, _, stderr := runCLI(t, "-f", file, "compose-pull", "--docker-host", d.Host, "-f", bad)
		if code != 1 || !strings.Contains(stderr, "bad.yaml") {
			t.Fatalf("exit %d stderr %s", code, stderr)
		}
	})
}
