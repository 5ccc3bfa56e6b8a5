package platform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/pkg/jsonmessage"
	"k8s.io/client-go/kubernetes"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/compose"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/providers"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/document"
	"github.com/regcred/regcred/store/memory"
	"github.com/regcred/regcred/swarm"
)

// ---- The platform's code: what a platform writes around regcred. ----

// platform holds the registries in one store, seen through two Catalogs: cat is what its
// users reach, every call authorized as the signed-in user (catalog.DefaultPolicy); deploy
// is the platform's own trusted view for the deployments it makes (pull Secrets,
// X-Registry-Auth, compose), which users never reach.
type platform struct {
	cat    *catalog.Catalog
	deploy *catalog.Catalog

	mu   sync.Mutex
	uses map[string]map[string]bool // registry ID -> what deploys with it
}

func newPlatform(opts ...catalog.Option) *platform {
	p := &platform{uses: map[string]map[string]bool{}}
	store := memory.New()
	common := append([]catalog.Option{catalog.WithProviderFactory(providers.Factory()), catalog.WithUsage(p.usage)}, opts...)
	p.cat = catalog.New(store, append(common, catalog.WithAuthorizer(catalog.DefaultPolicy()))...)
	p.deploy = catalog.New(store, common...)
	return p
}

func (p *platform) close() {
	p.cat.Close()
	p.deploy.Close()
}

// usage is the Catalog's delete guard: what the platform deployed with a registry.
func (p *platform) usage(_ context.Context, r registry.Registry) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var refs []string
	for ref := range p.uses[r.ID] {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	return refs, nil
}

func (p *platform) use(id, ref string, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.uses[id] == nil {
		p.uses[id] = map[string]bool{}
	}
	if on {
		p.uses[id][ref] = true
	} else {
		delete(p.uses[id], ref)
	}
}

// handler is the platform's JSON API over the Catalog. The acting user comes from the
// platform's own authentication (here the X-User header stands in for it) and travels in
// the request's context: the Catalog authorizes every call, records the user as the
// owner of what they add and in the audit log.
func (p *platform) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/registries", func(w http.ResponseWriter, r *http.Request) {
		list, err := p.cat.List(r.Context()) // redacted views
		respond(w, http.StatusOK, list, err)
	})
	mux.HandleFunc("POST /api/registries", func(w http.ResponseWriter, r *http.Request) {
		in, inferred, ok := decode(w, r)
		if !ok {
			return
		}
		saved, err := p.cat.Add(r.Context(), in)
		respond(w, http.StatusCreated, withInferred{saved, inferred}, err)
	})
	mux.HandleFunc("PUT /api/registries/{id}", func(w http.ResponseWriter, r *http.Request) {
		in, inferred, ok := decode(w, r)
		if !ok {
			return
		}
		in.ID = r.PathValue("id")
		saved, err := p.cat.Update(r.Context(), in) // a blank secret keeps the stored one
		respond(w, http.StatusOK, withInferred{saved, inferred}, err)
	})
	mux.HandleFunc("POST /api/registries/test", func(w http.ResponseWriter, r *http.Request) {
		draft, _, ok := decode(w, r)
		if !ok {
			return
		}
		rep, err := p.cat.TestDraft(r.Context(), draft)
		respond(w, http.StatusOK, rep, err)
	})
	mux.HandleFunc("DELETE /api/registries/{id}", func(w http.ResponseWriter, r *http.Request) {
		err := p.cat.Delete(r.Context(), r.PathValue("id"))
		respond(w, http.StatusNoContent, nil, err)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me := catalog.Principal{User: r.Header.Get("X-User")}
		mux.ServeHTTP(w, r.WithContext(catalog.WithPrincipal(r.Context(), me)))
	})
}

// decode reads a registry from the body in either shape the library reads
// (document.Decode): ours ({"name", "kind", "server", "fields": {...}}) or the product
// documents' flat one ({"name", "url", "username", "password"}, type optional). A missing
// kind is inferred from the URL, and the answer says so ("inferred").
func decode(w http.ResponseWriter, r *http.Request) (registry.Registry, *document.Inference, bool) {
	in, inferred, err := document.Decode(http.MaxBytesReader(w, r.Body, document.MaxSize))
	if err != nil {
		respond(w, 0, nil, err)
		return registry.Registry{}, nil, false
	}
	return in, inferred, true
}

// withInferred is a saved record's JSON (redacted, as every Registry's) with what was
// inferred from the body, when anything was: {"kind": "ghcr", "host": "ghcr.io"}.
type withInferred struct {
	rec      registry.Registry
	inferred *document.Inference
}

func (x withInferred) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(x.rec)
	if err != nil || x.inferred == nil {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m["inferred"], err = json.Marshal(x.inferred); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

type fieldProblem struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
	Hint   string `json:"hint,omitempty"`
}

type apiError struct {
	Error  string         `json:"error"`
	Fields []fieldProblem `json:"fields,omitempty"`
	Refs   []string       `json:"refs,omitempty"`
}

// respond writes v with status, or err as the status its sentinel calls for; the error
// texts of the library hold no secret.
func respond(w http.ResponseWriter, status int, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err == nil {
		w.WriteHeader(status)
		if v != nil {
			json.NewEncoder(w).Encode(v)
		}
		return
	}
	body := apiError{Error: err.Error()}
	var ve *registry.ValidationError
	var fe *registry.FieldError
	switch {
	case errors.As(err, &ve):
		for _, fe := range ve.Errors {
			body.Fields = append(body.Fields, fieldProblem{fe.Field, fe.Reason, fe.Hint})
		}
	case errors.As(err, &fe):
		body.Fields = []fieldProblem{{fe.Field, fe.Reason, fe.Hint}}
	}
	var inUse *catalog.InUseError
	if errors.As(err, &inUse) {
		body.Refs = inUse.Refs
	}
	switch {
	case errors.Is(err, registry.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, registry.ErrForbidden), errors.Is(err, registry.ErrNotOwner):
		status = http.StatusForbidden
	case errors.Is(err, registry.ErrInUse), errors.Is(err, registry.ErrConflict):
		status = http.StatusConflict
	case errors.Is(err, registry.ErrInvalid), errors.Is(err, registry.ErrRedacted):
		status = http.StatusUnprocessableEntity
	default:
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// syncPullSecrets writes a pull Secret of every registry into namespaces, through the
// Catalog's source and its one provider per registry.
func (p *platform) syncPullSecrets(ctx context.Context, client kubernetes.Interface, namespaces []string) error {
	syncer := kube.NewSyncer(client, kube.WithProviderFactory(p.deploy.ProviderFactory()))
	refresher := kube.NewRefresher(syncer, p.deploy.SyncSource(func(context.Context) ([]string, error) { return namespaces, nil }))
	_, _, err := refresher.Step(ctx)
	return err
}

// registryAuth is the X-Registry-Auth header a service or a pull of image is deployed
// with, and the registry it comes from.
func (p *platform) registryAuth(ctx context.Context, image string) (string, registry.Registry, error) {
	kc, err := p.deploy.Keychain(ctx)
	if err != nil {
		return "", registry.Registry{}, err
	}
	creds, reg, err := kc.Credentials(ctx, image)
	if err != nil {
		return "", registry.Registry{}, err
	}
	server := creds.Server
	if server == "" {
		server = reg.Host()
	}
	auth, err := swarm.EncodeAuth(creds, server)
	return auth, reg, err
}

// composeConfig writes the DOCKER_CONFIG a compose project is pulled with.
func (p *platform) composeConfig(ctx context.Context, file string) (*compose.ConfigDir, func() error, error) {
	proj, err := compose.Load(ctx, []string{file}, compose.WithOSEnv(false))
	if err != nil {
		return nil, nil, err
	}
	kc, err := p.deploy.Keychain(ctx)
	if err != nil {
		return nil, nil, err
	}
	return compose.WriteConfigDir(ctx, kc, proj.Images)
}

// ---- The platform's test. ----

const (
	user = "platform-deployer"
	pass = "Pl4tform-s3cret-Pa55"
)

// call sends one API request as actor and decodes the JSON answer into out (when not nil);
// it returns the status and the raw body.
func call(t *testing.T, srv *httptest.Server, actor, method, path string, body, out any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, srv.URL+path, rd)
	req.Header.Set("X-User", actor)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, string(raw)
}

// form is the JSON a browser sends: plain maps, as a form serializes, never a Registry
// (whose JSON is the redacted view).
type form map[string]any

// TestPlatform is the platform's own test: its API over the Catalog, then every deployment
// artifact from the same Catalog, each used for a real pull from a real registry (basic
// auth over TLS).
func TestPlatform(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth(user, pass), testenv.WithTLS())
	skopeo := testenv.Skopeo(t)
	kubeImage := reg.Push(t, "platform/kube:v1")
	swarmImage := reg.Push(t, "platform/swarm:v1")
	composeImage := reg.Push(t, "platform/compose:v1")

	p := newPlatform()
	defer p.close()
	srv := httptest.NewServer(p.handler())
	defer srv.Close()

	// Create: a form with a missing password gets every problem under its input.
	var bad apiError
	status, _ := call(t, srv, "alice", "POST", "/api/registries", form{"name": "team", "kind": "custom", "server": reg.Host,
		"tls": form{"mode": "ca", "caBundle": string(reg.CAPEM)}, "fields": form{"username": user}}, &bad)
	if status != http.StatusUnprocessableEntity || len(bad.Fields) == 0 || bad.Fields[0].Field != "password" {
		t.Fatalf("create without a password: %d %+v, want 422 naming the password", status, bad)
	}
	createForm := form{"name": "team", "kind": "custom", "server": reg.Host,
		"tls": form{"mode": "ca", "caBundle": string(reg.CAPEM)}, "fields": form{"username": user, "password": pass}}
	var created map[string]any
	status, raw := call(t, srv, "alice", "POST", "/api/registries", createForm, &created)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, raw)
	}
	id, _ := created["id"].(string)
	if id == "" || strings.Contains(raw, pass) || created["fields"].(map[string]any)["password"] != registry.Redacted {
		t.Fatalf("create answered %s: want an ID and the password redacted", raw)
	}

	// List: redacted.
	var list []map[string]any
	status, raw = call(t, srv, "bob", "GET", "/api/registries", nil, &list)
	if status != http.StatusOK || len(list) != 1 || strings.Contains(raw, pass) || list[0]["redacted"] != true {
		t.Fatalf("list: %d %s: want one redacted record", status, raw)
	}

	// Update with the secret left blank: a rename; the stored password stays (the pulls
	// below prove it). A stale version is refused.
	update := form{"name": "team-registry", "kind": "custom", "server": reg.Host, "version": 1,
		"tls": form{"mode": "ca", "caBundle": string(reg.CAPEM)}, "fields": form{"username": user, "password": ""}}
	var updated map[string]any
	if status, raw = call(t, srv, "alice", "PUT", "/api/registries/"+id, update, &updated); status != http.StatusOK || updated["name"] != "team-registry" || updated["version"] != 2.0 {
		t.Fatalf("update with a blank password: %d %s", status, raw)
	}
	if status, raw = call(t, srv, "alice", "PUT", "/api/registries/"+id, update, nil); status != http.StatusConflict {
		t.Fatalf("update from a stale version: %d %s, want 409", status, raw)
	}

	// Test drafts before saving: an edit with the password blank is tested with the stored
	// one; an edit with a wrong password fails at the registry; a new unsaved record is
	// tested as it is.
	draftOf := func(id, password string) form {
		return form{"id": id, "name": "team-registry", "kind": "custom", "server": reg.Host,
			"tls": form{"mode": "ca", "caBundle": string(reg.CAPEM)}, "fields": form{"username": user, "password": password}}
	}
	for _, tc := range []struct {
		name   string
		draft  form
		wantOK bool
	}{
		{"saved record, blank password", draftOf(id, ""), true},
		{"saved record, wrong password", draftOf(id, "wrong-password"), false},
		{"new record", draftOf("", pass), true},
		{"new record, wrong password", draftOf("", "wrong-password"), false},
	} {
		var rep map[string]any
		status, raw := call(t, srv, "alice", "POST", "/api/registries/test", tc.draft, &rep)
		if status != http.StatusOK || rep["ok"] != tc.wantOK {
			t.Errorf("test draft (%s): %d %s, want ok=%v", tc.name, status, raw, tc.wantOK)
		}
		if strings.Contains(raw, pass) || strings.Contains(raw, "wrong-password") {
			t.Errorf("test draft (%s) answered a secret: %s", tc.name, raw)
		}
	}

	// The trust the other clients get: the registry's CA, as the record saves it.
	certDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(certDir, "ca.crt"), reg.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pullWithSkopeo := func(authfile, image string) (string, error) {
		out, err := exec.CommandContext(ctx, skopeo, "copy", "--src-authfile", authfile, "--src-cert-dir", certDir,
			"docker://"+image, "oci:"+filepath.Join(t.TempDir(), "oci")+":v1").CombinedOutput()
		return string(out), err
	}

	t.Run("kubernetes pull secret", func(t *testing.T) {
		k := testenv.StartKube(t)
		ns := k.Namespace(t, "platform")
		if err := p.syncPullSecrets(ctx, k.Client, []string{ns}); err != nil {
			t.Fatal(err)
		}
		p.use(id, "namespace/"+ns, true)
		rec, err := p.deploy.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		s, err := k.Client.CoreV1().Secrets(ns).Get(ctx, kube.DefaultSecretName(rec), metav1.GetOptions{})
		if err != nil {
			t.Fatalf("the pull Secret is not in the API server: %v", err)
		}
		authfile := filepath.Join(t.TempDir(), "auth.json")
		if err := os.WriteFile(authfile, s.Data[".dockerconfigjson"], 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := pullWithSkopeo(authfile, kubeImage); err != nil {
			t.Fatalf("skopeo with the Secret's .dockerconfigjson: %v\n%s", err, out)
		}
		empty := filepath.Join(t.TempDir(), "empty.json")
		os.WriteFile(empty, []byte(`{"auths":{}}`), 0o600)
		if out, err := pullWithSkopeo(empty, kubeImage); err == nil {
			t.Fatalf("skopeo pulled without credentials: the registry does not check them\n%s", out)
		}
	})

	d := testenv.StartDocker(t)
	t.Run("x-registry-auth", func(t *testing.T) {
		auth, used, err := p.registryAuth(ctx, swarmImage)
		if err != nil || used.ID != id {
			t.Fatalf("registry auth of %s: %v from %q", swarmImage, err, used.ID)
		}
		t.Cleanup(func() { d.RemoveImage(t, swarmImage) })
		pull := func(auth string) error {
			rc, err := d.Client.ImagePull(ctx, swarmImage, image.PullOptions{RegistryAuth: auth})
			if err != nil {
				return err
			}
			defer rc.Close()
			return jsonmessage.DisplayJSONMessagesStream(rc, io.Discard, 0, false, nil)
		}
		if err := pull(""); err == nil {
			t.Fatal("dockerd pulled without X-Registry-Auth: the registry does not check credentials")
		}
		if err := pull(auth); err != nil {
			t.Fatalf("dockerd pull with the X-Registry-Auth: %v", err)
		}
		if !d.HasImage(t, swarmImage) {
			t.Fatalf("%s not in the daemon after the pull", swarmImage)
		}
		p.use(id, "service/web", true)
	})

	t.Run("compose config dir", func(t *testing.T) {
		bin := testenv.LookPath(t, "docker-compose", "docker-compose")
		dir := t.TempDir()
		file := filepath.Join(dir, "compose.yaml")
		if err := os.WriteFile(file, []byte("services:\n  shop:\n    image: "+composeImage+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cd, cleanup, err := p.composeConfig(ctx, file)
		if err != nil {
			t.Fatal(err)
		}
		defer cleanup()
		if len(cd.Problems) > 0 || len(cd.Servers) != 1 || cd.Servers[0] != reg.Host {
			t.Fatalf("config dir for %s: servers %v, problems %v", reg.Host, cd.Servers, cd.Problems)
		}
		t.Cleanup(func() { d.RemoveImage(t, composeImage) })
		cmd := exec.CommandContext(ctx, bin, "-f", file, "-p", "shop", "pull")
		cmd.Env = append(d.Env(cd.Dir), "HOME="+dir, "COMPOSE_INTERACTIVE_NO_CLI=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker-compose pull with the config dir: %v\n%s", err, out)
		}
		if !d.HasImage(t, composeImage) {
			t.Fatalf("%s not in the daemon after docker-compose pull", composeImage)
		}
		// skopeo reads the same file: the config dir works for any docker-config client.
		if out, err := pullWithSkopeo(filepath.Join(cd.Dir, "config.json"), composeImage); err != nil {
			t.Fatalf("skopeo with the config dir: %v\n%s", err, out)
		}
		p.use(id, "compose/shop", true)
	})

	// Delete, guarded: only the owner, and not while anything deploys with it.
	var refused apiError
	if status, raw := call(t, srv, "bob", "DELETE", "/api/registries/"+id, nil, &refused); status != http.StatusForbidden {
		t.Fatalf("delete by another user: %d %s, want 403", status, raw)
	}
	status, raw = call(t, srv, "alice", "DELETE", "/api/registries/"+id, nil, &refused)
	if status != http.StatusConflict || len(refused.Refs) == 0 {
		t.Fatalf("delete while in use: %d %s, want 409 with what uses it", status, raw)
	}
	for _, ref := range refused.Refs {
		p.use(id, ref, false)
	}
	if status, raw := call(t, srv, "alice", "DELETE", "/api/registries/"+id, nil, nil); status != http.StatusNoContent {
		t.Fatalf("delete by the owner once unused: %d %s", status, raw)
	}
	if status, raw := call(t, srv, "alice", "GET", "/api/registries", nil, &list); status != http.StatusOK || len(list) != 0 {
		t.Fatalf("list after delete: %d %s", status, raw)
	}
}
