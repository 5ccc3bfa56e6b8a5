package platform_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
)

// Issue 22: the platform's JSON API takes the registries of seeds 000 and 001 as their
// users write them (no type, flat username and password), says what it inferred, and
// still names every problem of a body that is neither shape. The flat draft of a registry
// on a real distribution registry (htpasswd over TLS) tests green before it is saved.
func TestPlatformDocumentsShape(t *testing.T) {
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth("admin", "secretpassword"), testenv.WithTLS())
	p := newPlatform()
	defer p.close()
	srv := httptest.NewServer(p.handler())
	defer srv.Close()

	// The documents' three blocks as JSON.
	for _, tc := range []struct {
		body       form
		kind, host string
		fields     map[string]any
	}{
		{form{"name": "Docker Hub", "url": "docker.io", "username": "myuser", "password": "dckr_pat_xxxxx"},
			"dockerhub", "docker.io", map[string]any{"username": "myuser", "password": registry.Redacted}},
		{form{"name": "GitHub Registry", "url": "ghcr.io", "username": "my-github-user", "password": "ghp_xxxxxxxxxxxx"},
			"ghcr", "ghcr.io", map[string]any{"username": "my-github-user", "token": registry.Redacted}},
		{form{"name": "Private Registry", "url": "registry.mycompany.com", "username": "admin", "password": "secretpassword"},
			"custom", "registry.mycompany.com", map[string]any{"username": "admin", "password": registry.Redacted}},
	} {
		var created map[string]any
		status, raw := call(t, srv, "alice", "POST", "/api/registries", tc.body, &created)
		if status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", tc.body["name"], status, raw)
		}
		inferred, _ := created["inferred"].(map[string]any)
		if created["kind"] != tc.kind || inferred["kind"] != tc.kind || inferred["host"] != tc.host {
			t.Errorf("create %s: kind %v, inferred %v; want %s inferred from %s", tc.body["name"], created["kind"], inferred, tc.kind, tc.host)
		}
		fields, _ := created["fields"].(map[string]any)
		if len(fields) != len(tc.fields) {
			t.Errorf("create %s: fields %v, want %v", tc.body["name"], fields, tc.fields)
		}
		for k, v := range tc.fields {
			if fields[k] != v {
				t.Errorf("create %s: field %s = %v, want %v", tc.body["name"], k, fields[k], v)
			}
		}
		if strings.Contains(raw, tc.body["password"].(string)) {
			t.Errorf("create %s answered the password: %s", tc.body["name"], raw)
		}
	}

	// An explicit type wins over the host; the answer infers nothing.
	var typed map[string]any
	if status, raw := call(t, srv, "alice", "POST", "/api/registries", form{"name": "quay mirror", "type": "custom", "url": "quay.io",
		"username": "u", "password": "p"}, &typed); status != http.StatusCreated || typed["kind"] != "custom" || typed["inferred"] != nil {
		t.Fatalf("explicit type: %d %s", status, raw)
	}

	// A draft in the documents' shape (with the platform's TLS input) against a real registry.
	draft := form{"name": "Private Registry", "url": reg.Host, "username": "admin", "password": "secretpassword",
		"tls": form{"mode": "ca", "caBundle": string(reg.CAPEM)}}
	var rep map[string]any
	if status, raw := call(t, srv, "alice", "POST", "/api/registries/test", draft, &rep); status != http.StatusOK || rep["ok"] != true {
		t.Fatalf("test draft: %d %s", status, raw)
	}
	draft["password"] = "wrong-password"
	if status, raw := call(t, srv, "alice", "POST", "/api/registries/test", draft, &rep); status != http.StatusOK || rep["ok"] != false {
		t.Fatalf("test draft with a wrong password: %d %s, want ok=false", status, raw)
	}

	// Neither shape: every problem at once, under its key, no value quoted.
	var bad apiError
	status, raw := call(t, srv, "alice", "POST", "/api/registries", form{"name": "x", "user": "me", "pasword": "hunter2", "credentails": form{}}, &bad)
	if status != http.StatusUnprocessableEntity || strings.Contains(raw, "hunter2") {
		t.Fatalf("neither shape: %d %s", status, raw)
	}
	var got []string
	for _, f := range bad.Fields {
		got = append(got, f.Field)
	}
	if strings.Join(got, ",") != "credentails,pasword,user,kind" || !strings.Contains(raw, `did you mean password?`) {
		t.Fatalf("neither shape: problems %v in %s", got, raw)
	}
	// A GHCR registry without its password: the Catalog names GHCR's own field.
	bad = apiError{}
	status, raw = call(t, srv, "alice", "POST", "/api/registries", form{"name": "g", "url": "ghcr.io", "username": "u"}, &bad)
	if status != http.StatusUnprocessableEntity || len(bad.Fields) != 1 || bad.Fields[0].Field != "token" {
		t.Fatalf("ghcr without password: %d %s, want 422 naming the token", status, raw)
	}
}
