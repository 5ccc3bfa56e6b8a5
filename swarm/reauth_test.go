package swarm_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	dockerswarm "github.com/docker/docker/api/types/swarm"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/providers/cache"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
	"github.com/regcred/regcred/swarm"
)

// recordToken is a token endpoint that serves the record's username and password as a
// one-hour token on a clock, fetching on every call; the refreshing cache in front of it
// decides when to call.
type recordToken struct {
	clk     *clock.Fake
	r       registry.Registry
	fetches atomic.Int64
}

func (p *recordToken) Credentials(context.Context) (registry.Credentials, error) {
	p.fetches.Add(1)
	return registry.Credentials{Username: p.r.Fields["username"], Password: registry.Secret(p.r.Fields["password"]), ExpiresAt: p.clk.Now().Add(time.Hour)}, nil
}

// pauseImage builds an image whose only file is a static Go binary that waits for a
// signal, so its tasks keep running, and pushes it.
func pauseImage(t *testing.T, reg *testenv.RegistryServer, user, pass, repo string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nimport (\n\t\"os\"\n\t\"os/signal\"\n\t\"syscall\"\n)\n\nfunc main() {\n\tc := make(chan os.Signal, 1)\n\tsignal.Notify(c, syscall.SIGTERM, syscall.SIGINT)\n\t<-c\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "pause")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the pause binary: %v\n%s", err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "pause", Mode: 0o755, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(b)
	tw.Close()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := img.ConfigFile()
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Config.Entrypoint = []string{"/pause"}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(reg.Host+"/"+repo+":v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	tr := reg.Transport()
	defer tr.CloseIdleConnections()
	if err := remote.Write(ref, img, remote.WithAuth(authn.FromConfig(authn.AuthConfig{Username: user, Password: pass})), remote.WithTransport(tr)); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref.String()
}

func runningTasks(t *testing.T, d *testenv.Docker, serviceID string) []string {
	t.Helper()
	tasks, err := d.Client.TaskList(context.Background(), dockerswarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", serviceID))})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, task := range tasks {
		if task.Status.State == dockerswarm.TaskStateRunning {
			ids = append(ids, task.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

// TestReauthKeepsTasksRunning: services using a saved registry get their auth
// replaced after a rotation and before a token expires, and no task restarts (the task
// IDs are the same) on a real swarm.
func TestReauthKeepsTasksRunning(t *testing.T) {
	n := 20
	if v, err := strconv.Atoi(os.Getenv("REGCRED_SWARM_SERVICES")); err == nil && v > 0 {
		n = v
	}
	const user, pass = "swarm-bot", "swarm-pass"
	d := testenv.StartDocker(t)
	d.SwarmInit(t)
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth(user, pass))
	repo := fmt.Sprintf("regcred/pause-%d", time.Now().UnixNano())
	image := pauseImage(t, reg, user, pass, repo)

	clk := clock.NewFake(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	var tokens []*recordToken
	cat := catalog.New(memory.New(), catalog.WithProviderFactory(func(r registry.Registry) (registry.Provider, error) {
		tok := &recordToken{clk: clk, r: r}
		tokens = append(tokens, tok)
		return cache.New(tok, cache.WithClock(clk)), nil
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r, err := cat.Add(ctx, registry.Registry{Name: "swarm-reg", Kind: registry.KindCustom, Server: reg.Host,
		TLS: registry.TLS{Mode: registry.TLSInsecure}, Fields: map[string]string{"username": user, "password": pass}})
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := swarm.EncodeAuth(registry.Credentials{Username: user, Password: pass}, reg.Host)
	ids := make([]string, n)
	for i := range ids {
		spec := dockerswarm.ServiceSpec{
			Annotations: dockerswarm.Annotations{Name: fmt.Sprintf("regcred-reauth-%d", i)},
			TaskTemplate: dockerswarm.TaskSpec{
				ContainerSpec: &dockerswarm.ContainerSpec{Image: image, StopGracePeriod: durationPtr(time.Second)},
				RestartPolicy: &dockerswarm.RestartPolicy{Condition: dockerswarm.RestartPolicyConditionAny},
			},
		}
		if i%2 == 1 {
			spec.Annotations.Labels = map[string]string{swarm.LabelRegistry: r.ID}
		}
		id, _, err := swarm.CreateService(ctx, d.Client, spec, enc, swarm.WithTLS(registry.TLS{Mode: registry.TLSInsecure}))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
		t.Cleanup(func() { d.Client.ServiceRemove(context.Background(), id) })
	}
	tasks := map[string][]string{}
	deadline := time.Now().Add(3 * time.Minute)
	for _, id := range ids {
		for {
			if got := runningTasks(t, d, id); len(got) == 1 {
				tasks[id] = got
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("service %s has no running task after 3 minutes\n%s", id, d.Logs())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	version := func(id string) uint64 {
		s, _, err := d.Client.ServiceInspectWithRaw(ctx, id, dockerswarm.ServiceInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s.Version.Index
	}
	sw := swarm.NewReauth(cat, d.Client, swarm.WithReauthClock(clk))
	pass1 := func(what string, want int) {
		t.Helper()
		before := map[string]uint64{}
		for _, id := range ids {
			before[id] = version(id)
		}
		res, err := sw.Reconcile(ctx)
		if err != nil || res.Failed != nil {
			t.Fatalf("%s: %v %v", what, err, res.Failed)
		}
		if len(res.Updated) != want {
			t.Fatalf("%s: updated %d services, want %d", what, len(res.Updated), want)
		}
		for _, id := range ids {
			if bumped := version(id) > before[id]; bumped != (want > 0) {
				t.Fatalf("%s: service %s version bumped=%v, want %v", what, id, bumped, want > 0)
			}
		}
	}
	pass1("first pass (nothing known about the stored auth)", n)
	pass1("steady state", 0)

	cur, _ := cat.Get(ctx, r.ID)
	cur.Fields = map[string]string{"username": user, "password": "rotated-" + pass}
	if _, err := cat.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	pass1("after a rotation", n)

	// The token falls due (the cache's rule: 0.8 of its hour): the pass fetches anew, and
	// the endpoint answered the same credentials, so there is nothing to push.
	last := tokens[len(tokens)-1]
	fetched := last.fetches.Load()
	clk.Advance(49 * time.Minute)
	pass1("token refreshed, same credentials", 0)
	if last.fetches.Load() != fetched+1 {
		t.Fatalf("the due pass fetched %d times, want once", last.fetches.Load()-fetched)
	}

	time.Sleep(2 * time.Second) // a rolling restart would have begun
	for _, id := range ids {
		if got := runningTasks(t, d, id); fmt.Sprint(got) != fmt.Sprint(tasks[id]) {
			t.Errorf("service %s: running tasks %v, were %v: re-auth restarted them", id, got, tasks[id])
		}
	}
	// Control: a real spec change (--force) does restart the task, and this check sees it.
	svc, _, err := d.Client.ServiceInspectWithRaw(ctx, ids[0], dockerswarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Spec.TaskTemplate.ForceUpdate++
	if _, err := d.Client.ServiceUpdate(ctx, ids[0], svc.Version, svc.Spec, dockerswarm.ServiceUpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		got := runningTasks(t, d, ids[0])
		if len(got) == 1 && got[0] != tasks[ids[0]][0] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("control: a forced update did not replace the task (%v): the task check proves nothing", got)
		}
	}

	h, err := cat.Health(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Consumers) != n {
		t.Errorf("health lists %d consumers, want the %d services", len(h.Consumers), n)
	}
}

func durationPtr(d time.Duration) *time.Duration { return &d }
