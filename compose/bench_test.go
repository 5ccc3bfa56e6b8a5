package compose

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/regcred/regcred/internal/testenv"
)

// BenchmarkPrePull8 pulls a project of 8 images from the password-protected test registry
// into the test dockerd: through the Engine API with bounded concurrency (what PrePull
// does), sequentially through the Engine API, and with Debian's docker-compose 1.29 `pull`
// (sequential with --no-parallel, and its default parallel mode) using our isolated
// DOCKER_CONFIG. Images are removed between iterations, outside the timer.
//
//	go test -run '^$' -bench PrePull8 -benchtime 10x ./compose/
//
// Measured 2026-11-23 (2 shared cores, dockerd 20.10 vfs, 8 images of one 1 KiB layer):
//
//	engine/concurrency=4               3.23 s/op
//	engine/concurrency=1               4.97 s/op
//	docker-compose-pull/sequential     8.68 s/op   (2.7x the engine's bounded-concurrent pull)
//	docker-compose-pull/parallel       6.80 s/op   (2.1x)
func BenchmarkPrePull8(b *testing.B) {
	d := testenv.StartDocker(b)
	bin := testenv.LookPath(b, "docker-compose", "docker-compose")
	reg := testenv.StartRegistry(b, testenv.WithBasicAuth(testUser, testPass))
	var yaml strings.Builder
	yaml.WriteString("services:\n")
	for i := range 8 {
		ref := reg.Push(b, fmt.Sprintf("bench/svc%d:v1", i))
		fmt.Fprintf(&yaml, "  svc%d:\n    image: %s\n", i, ref)
	}
	file := writeProject(b, yaml.String())
	ctx := context.Background()
	p, err := Load(ctx, []string{file}, WithOSEnv(false))
	if err != nil {
		b.Fatal(err)
	}
	kc := newKeychain(b, savedRegistry(reg, testPass))
	removeAll := func() {
		for _, img := range p.Images {
			d.RemoveImage(b, img.Ref)
		}
	}
	b.Cleanup(removeAll)

	for _, n := range []int{DefaultConcurrency, 1} {
		b.Run(fmt.Sprintf("engine/concurrency=%d", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				removeAll()
				b.StartTimer()
				if _, err := PrePull(ctx, d.Client, kc, p.Images, WithConcurrency(n)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, mode := range []struct{ name, flag string }{{"sequential", "--no-parallel"}, {"parallel", ""}} {
		b.Run("docker-compose-pull/"+mode.name, func(b *testing.B) {
			cd, cleanup, err := WriteConfigDir(ctx, kc, p.Images)
			if err != nil {
				b.Fatal(err)
			}
			defer cleanup()
			args := []string{"-f", file, "pull", "--quiet"}
			if mode.flag != "" {
				args = append(args, mode.flag)
			}
			env := append(d.Env(cd.Dir), "HOME="+b.TempDir())
			for b.Loop() {
				b.StopTimer()
				removeAll()
				b.StartTimer()
				if out, err := dockerCompose(b, bin, env, args...); err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
			}
		})
	}
}
