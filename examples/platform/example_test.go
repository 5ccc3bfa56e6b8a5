package platform_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/regcredtest"
)

// The platform's JSON API over its Catalog, against the test kit's registry (basic auth
// over TLS, in process): create, list (redacted), update with the password left blank,
// test drafts before saving, edits and deletes authorized by the Catalog's policy (only the
// owner or an admin), and delete guarded by usage.
func Example() {
	reg := regcredtest.NewRegistry(&testing.T{}, regcredtest.WithBasicAuth("deploy", "s3cret-Pa55"))
	clk := regcredtest.NewClock(time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC))
	n := 0
	p := newPlatform(catalog.WithClock(clk), catalog.WithIDs(func() string { n++; return fmt.Sprintf("reg-%d", n) }))
	defer p.close()
	srv := httptest.NewServer(p.handler())
	defer srv.Close()

	send := func(actor, method, path string, body any) {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, srv.URL+path, rd)
		req.Header.Set("X-User", actor)
		resp, err := srv.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		fmt.Printf("%s %s %s -> %d %s\n", actor, method, path, resp.StatusCode, summary(raw))
		if strings.Contains(string(raw), "s3cret-Pa55") {
			fmt.Println("LEAK")
		}
	}
	tlsForm := form{"mode": "ca", "caBundle": string(reg.CAPEM)}
	record := func(id, name, password string, version int) form {
		return form{"id": id, "name": name, "kind": "custom", "server": reg.Host, "tls": tlsForm, "version": version,
			"fields": form{"username": "deploy", "password": password}}
	}

	send("alice", "POST", "/api/registries", form{"name": "team", "kind": "custom", "server": reg.Host + "/x y",
		"fields": form{"username": "deploy"}})
	send("alice", "POST", "/api/registries", record("", "team", "s3cret-Pa55", 0))
	send("bob", "GET", "/api/registries", nil)
	send("alice", "PUT", "/api/registries/reg-1", record("", "team-registry", "", 1))
	send("alice", "POST", "/api/registries/test", record("reg-1", "team-registry", "", 2))
	send("alice", "POST", "/api/registries/test", record("reg-1", "team-registry", "wrong", 2))
	p.use("reg-1", "namespace/shop", true)
	send("bob", "PUT", "/api/registries/reg-1", record("", "bobs-now", "", 2))
	send("bob", "DELETE", "/api/registries/reg-1", nil)
	send("alice", "DELETE", "/api/registries/reg-1", nil)
	p.use("reg-1", "namespace/shop", false)
	send("alice", "DELETE", "/api/registries/reg-1", nil)
	// Output:
	// alice POST /api/registries -> 422 invalid; fields: url, password
	// alice POST /api/registries -> 201 id=reg-1 name=team version=1 fields=map[password:REDACTED username:deploy] redacted=true
	// bob GET /api/registries -> 200 [id=reg-1 name=team version=1 fields=map[password:REDACTED username:deploy] redacted=true]
	// alice PUT /api/registries/reg-1 -> 200 id=reg-1 name=team-registry version=2 fields=map[password:REDACTED username:deploy] redacted=true
	// alice POST /api/registries/test -> 200 ok=true
	// alice POST /api/registries/test -> 200 ok=false failed=auth code=unauthorized
	// bob PUT /api/registries/reg-1 -> 403 error: bob may not edit registry "team-registry": only its owner or an admin may: forbidden
	// bob DELETE /api/registries/reg-1 -> 403 error: bob may not delete registry "team-registry": only its owner or an admin may: forbidden
	// alice DELETE /api/registries/reg-1 -> 409 in use; refs: [namespace/shop]
	// alice DELETE /api/registries/reg-1 -> 204
}

// summary prints the parts of an API answer a reader checks.
func summary(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '[' {
		var list []json.RawMessage
		json.Unmarshal(raw, &list)
		parts := make([]string, len(list))
		for i, r := range list {
			parts[i] = summary(r)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	var m map[string]any
	json.Unmarshal(raw, &m)
	switch {
	case m["ok"] != nil: // a connection test report
		s := fmt.Sprintf("ok=%v", m["ok"])
		steps, _ := m["steps"].([]any)
		for _, st := range steps {
			if sm := st.(map[string]any); sm["verdict"] == "failed" {
				s += fmt.Sprintf(" failed=%v code=%v", sm["name"], sm["code"])
				break
			}
		}
		return s
	case m["error"] != nil:
		s := "error: " + fmt.Sprint(m["error"])
		if fs, ok := m["fields"].([]any); ok {
			names := make([]string, len(fs))
			for i, f := range fs {
				names[i] = fmt.Sprint(f.(map[string]any)["field"])
			}
			s = "invalid; fields: " + strings.Join(names, ", ")
		}
		if refs, ok := m["refs"]; ok {
			s = "in use; refs: " + fmt.Sprint(refs)
		}
		return s
	}
	fields, _ := m["fields"].(map[string]any)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return fmt.Sprintf("id=%v name=%v version=%v fields=%v redacted=%v", m["id"], m["name"], m["version"], fields, m["redacted"])
}
