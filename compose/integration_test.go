package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/keychain"
)

func TestMain(m *testing.M) { testenv.DockerMain(m) }

const (
	testUser = "compose-bot"
	testPass = "C0mpose-pa55"
)

// savedRegistry is the record a user would save for the protected test registry.
func savedRegistry(reg *testenv.RegistryServer, password string) registry.Registry {
	return registry.Registry{ID: "reg-a", Name: "team registry", Kind: registry.KindCustom, Server: reg.URL,
		TLS: registry.TLS{Mode: registry.TLSInsecure}, Fields: map[string]string{"username": testUser, "password": password}}
}

func newKeychain(t testing.TB, regs ...registry.Registry) *keychain.Keychain {
	t.Helper()
	kc, err := keychain.New(regs)
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

func closedHost(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// writeProject writes a compose file into a fresh directory and returns its path.
func writeProject(t testing.TB, body string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPrePullEngine pre-pulls a project with images from a password-protected registry and
// from one that needs no credentials, through the real daemon's Engine API.
func TestPrePullEngine(t *testing.T) {
	d := testenv.StartDocker(t)
	regA := testenv.StartRegistry(t, testenv.WithBasicAuth(testUser, testPass))
	regB := testenv.StartRegistry(t)
	web := regA.Push(t, "prepull/web:v1")
	api := regA.Push(t, "prepull/api:v1")
	db := regB.Push(t, "prepull/db:v1")
	stranger := closedHost(t) + "/prepull/x:v1"
	missing := regA.Host + "/prepull/nope:v1"
	file := writeProject(t, fmt.Sprintf(`
services:
  web: {image: "%s"}
  api: {image: "%s"}
  db: {image: "%s"}
  missing: {image: "%s"}
  stranger: {image: "%s"}
  assets: {build: ./assets}
`, web, api, db, missing, stranger))
	p, err := Load(context.Background(), []string{file}, WithOSEnv(false))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Skip{{Service: "assets", Reason: "build only: no image to pull"}}, p.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	removeAll := func() {
		for _, ref := range []string{web, api, db} {
			d.RemoveImage(t, ref)
		}
	}
	t.Cleanup(removeAll)

	type row struct {
		Ref    string
		Status Status
		Is     error
	}
	byRef := func(results []Result) map[string]Result {
		m := map[string]Result{}
		for _, r := range results {
			m[r.Image.Ref] = r
		}
		return m
	}
	verdicts := func(results []Result) map[string]row {
		out := map[string]row{}
		for _, r := range results {
			var is error
			for _, s := range []error{registry.ErrUnauthorized, registry.ErrNotFound, registry.ErrUnavailable, registry.ErrForbidden} {
				if errors.Is(r.Err, s) {
					is = s
					break
				}
			}
			if r.Err != nil && is == nil {
				is = r.Err
			}
			out[r.Image.Ref] = row{r.Image.Ref, r.Status, is}
		}
		return out
	}
	cmpErr := cmp.Comparer(func(a, b error) bool { return a == b })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	t.Run("saved credentials", func(t *testing.T) {
		removeAll()
		var done int
		results, err := PrePull(ctx, d.Client, newKeychain(t, savedRegistry(regA, testPass)), p.Images,
			WithConcurrency(3), WithProgress(func(e Event) {
				if e.Kind == EventDone {
					done++
				}
			}))
		if err == nil {
			t.Error("want a joined error for the two failed images")
		}
		want := map[string]row{
			stranger: {stranger, Failed, registry.ErrUnavailable},
			api:      {api, Pulled, nil},
			missing:  {missing, Failed, registry.ErrNotFound},
			web:      {web, Pulled, nil},
			db:       {db, Pulled, nil},
		}
		if diff := cmp.Diff(want, verdicts(results), cmpErr); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
		for _, r := range results {
			if r.Err != nil {
				t.Logf("%s: %v", r.Image.Ref, r.Err)
			}
			if r.Status == Pulled && (!d.HasImage(t, r.Image.Ref) || !strings.HasPrefix(r.Digest, "sha256:")) {
				t.Errorf("%s reported pulled (digest %q) but is not in the daemon", r.Image.Ref, r.Digest)
			}
		}
		if done != len(p.Images) {
			t.Errorf("%d done events, want %d", done, len(p.Images))
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		removeAll()
		results, _ := PrePull(ctx, d.Client, newKeychain(t, savedRegistry(regA, "stale-password")), p.Images)
		got := byRef(results)
		for _, ref := range []string{web, api} {
			if !errors.Is(got[ref].Err, registry.ErrUnauthorized) {
				t.Errorf("%s: %v, want ErrUnauthorized", ref, got[ref].Err)
			} else if !strings.Contains(got[ref].Err.Error(), `credentials of saved registry "team registry"`) {
				t.Errorf("error does not name the saved registry: %v", got[ref].Err)
			}
		}
		if got[db].Status != Pulled {
			t.Errorf("the public image did not pull: %v", got[db].Err)
		}
	})
	t.Run("no saved registry", func(t *testing.T) {
		removeAll()
		results, _ := PrePull(ctx, d.Client, newKeychain(t), p.Images)
		got := byRef(results)
		if !errors.Is(got[web].Err, registry.ErrUnauthorized) || !strings.Contains(got[web].Err.Error(), "no saved registry matches "+regA.Host) {
			t.Errorf("web: %v, want ErrUnauthorized naming the unknown registry", got[web].Err)
		}
		if got[db].Status != Pulled {
			t.Errorf("the public image did not pull: %v", got[db].Err)
		}
	})
}

// dockerCompose runs Debian's docker-compose 1.29 with env.
func dockerCompose(t testing.TB, bin string, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestDockerComposePullIsolatedConfig: docker-compose pull succeeds with the isolated
// DOCKER_CONFIG, the user's own config is byte-identical afterwards, and the directory is
// gone after cleanup.
func TestDockerComposePullIsolatedConfig(t *testing.T) {
	d := testenv.StartDocker(t)
	bin := testenv.LookPath(t, "docker-compose", "docker-compose")
	regA := testenv.StartRegistry(t, testenv.WithBasicAuth(testUser, testPass))
	regB := testenv.StartRegistry(t)
	web := regA.Push(t, "dcpull/web:v1")
	db := regB.Push(t, "dcpull/db:v1")
	t.Cleanup(func() { d.RemoveImage(t, web); d.RemoveImage(t, db) })
	file := writeProject(t, fmt.Sprintf("services:\n  web:\n    image: %s\n  db:\n    image: %s\n", web, db))

	// The user's own ~/.docker/config.json, with an unrelated login and a setting.
	home := t.TempDir()
	userCfg := filepath.Join(home, ".docker", "config.json")
	if err := os.MkdirAll(filepath.Dir(userCfg), 0o700); err != nil {
		t.Fatal(err)
	}
	userBytes := []byte(`{"auths":{"elsewhere.example":{"auth":"dXNlcjpwYXNz"}},"psFormat":"table {{.ID}}"}` + "\n")
	if err := os.WriteFile(userCfg, userBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(userCfg)
	// The library runs in this process: give it the same HOME as docker-compose, and no
	// DOCKER_CONFIG, so that anything it wrote to "the user's" docker config would land in
	// the file checked below.
	t.Setenv("HOME", home)
	t.Setenv("DOCKER_CONFIG", "")
	os.Unsetenv("DOCKER_CONFIG")
	if h, err := os.UserHomeDir(); err != nil || h != home {
		t.Fatalf("the library's HOME is %q (%v), want the test's %q", h, err, home)
	}
	envWith := func(dockerConfig string) []string {
		return append(d.Env(dockerConfig), "HOME="+home, "COMPOSE_INTERACTIVE_NO_CLI=1")
	}

	// With the user's config alone the protected image is refused.
	if out, err := dockerCompose(t, bin, envWith(filepath.Dir(userCfg)), "-f", file, "pull", "web"); err == nil {
		t.Fatalf("docker-compose pull without our credentials succeeded:\n%s", out)
	}

	p, err := Load(context.Background(), []string{file}, WithOSEnv(false))
	if err != nil {
		t.Fatal(err)
	}
	cd, cleanup, err := WriteConfigDir(context.Background(), newKeychain(t, savedRegistry(regA, testPass)), p.Images)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{regA.Host}, cd.Servers); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	out, err := dockerCompose(t, bin, envWith(cd.Dir), "-f", file, "pull")
	if err != nil {
		t.Fatalf("docker-compose pull with the isolated config: %v\n%s", err, out)
	}
	for _, ref := range []string{web, db} {
		if !d.HasImage(t, ref) {
			t.Errorf("%s not in the daemon after docker-compose pull:\n%s", ref, out)
		}
	}
	if err := cleanup(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cd.Dir); !os.IsNotExist(err) {
		t.Errorf("isolated config still on disk: %v", err)
	}
	got, err := os.ReadFile(userCfg)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(userCfg)
	if !bytes.Equal(got, userBytes) || !after.ModTime().Equal(before.ModTime()) || after.Mode() != before.Mode() {
		t.Errorf("the user's config changed:\n%s", got)
	}
}

// TestPrePullEngineUnluckyNumbers pulls through the real daemon from a registry whose port
// holds "401" (or "403", "404"), by tags and by digests that hold those numbers too: a
// missing image is "not found", never "unauthorized", and a refused password is still
// "unauthorized". (A classifier that read numbers out of the daemon's text failed
// TestPrePullEngine whenever the free port it got held "401".)
func TestPrePullEngineUnluckyNumbers(t *testing.T) {
	d := testenv.StartDocker(t)
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth(testUser, testPass))
	pushed := reg.Push(t, "unlucky/web:v1")
	host := testenv.Forward(t, reg.Host, testenv.UnluckyPorts...)
	_, repoTag, _ := strings.Cut(pushed, "/")
	web := host + "/" + repoTag
	t.Cleanup(func() { d.RemoveImage(t, web) })
	saved := registry.Registry{ID: "unlucky", Name: "unlucky registry", Kind: registry.KindCustom, Server: "http://" + host,
		TLS: registry.TLS{Mode: registry.TLSInsecure}, Fields: map[string]string{"username": testUser, "password": testPass}}
	wrong := saved
	wrong.Fields = map[string]string{"username": testUser, "password": "stale-401-403"}

	const digest401 = "sha256:4014034040401403404040140340404014034040401403404040140340404014"
	images := []Image{
		{Ref: web, Host: host, Services: []string{"web"}},
		{Ref: host + "/unlucky/nope:v401", Host: host, Services: []string{"tag"}},
		{Ref: host + "/unlucky/web@" + digest401, Host: host, Services: []string{"digest"}},
		{Ref: host + "/unlucky/never403@" + digest401, Host: host, Services: []string{"repo"}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	check := func(t *testing.T, kc Keychain, want []error) {
		t.Helper()
		d.RemoveImage(t, web)
		results, _ := PrePull(ctx, d.Client, kc, images)
		for i, r := range results {
			t.Logf("%s: %v %v", r.Image.Ref, r.Status, r.Err)
			if want[i] == nil {
				if r.Status != Pulled {
					t.Errorf("%s: %v %v, want pulled", r.Image.Ref, r.Status, r.Err)
				}
				continue
			}
			if !errors.Is(r.Err, want[i]) {
				t.Errorf("%s: %v, want %v", r.Image.Ref, r.Err, want[i])
			}
			for _, s := range []error{registry.ErrUnauthorized, registry.ErrNotFound, registry.ErrForbidden, registry.ErrUnavailable} {
				if s != want[i] && errors.Is(r.Err, s) {
					t.Errorf("%s: %v is also %v", r.Image.Ref, r.Err, s)
				}
			}
		}
	}
	t.Run("saved credentials", func(t *testing.T) {
		check(t, newKeychain(t, saved), []error{nil, registry.ErrNotFound, registry.ErrNotFound, registry.ErrNotFound})
	})
	t.Run("wrong password", func(t *testing.T) {
		check(t, newKeychain(t, wrong), []error{registry.ErrUnauthorized, registry.ErrUnauthorized, registry.ErrUnauthorized, registry.ErrUnauthorized})
	})
}
