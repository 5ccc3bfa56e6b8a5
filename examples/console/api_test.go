package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
)

// hostileBody is a 1 MB registry whose credentials hold about 80,000 made-up keys.
func hostileBody() []byte {
	var b bytes.Buffer
	b.WriteString(`{"name":"x","type":"Custom","url":"registry.example.com","credentials":{"username":"u","password":"p"`)
	for i := 0; b.Len() < 1<<20-64; i++ {
		fmt.Fprintf(&b, `,"k%d":"v"`, i)
	}
	b.WriteString("}}")
	return b.Bytes()
}

// TestAPIHostileBodyIsCheap: a 1 MB body of 80,000 unknown credential keys is refused with
// a short answer naming the key, and saves nothing.
func TestAPIHostileBodyIsCheap(t *testing.T) {
	c := newTestConsole(t)
	body := hostileBody()
	req, _ := http.NewRequest("POST", c.srv.URL+"/api/v1/registries", bytes.NewReader(body))
	req.SetBasicAuth("admin", adminPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || out.Len() > 4<<10 || !strings.Contains(out.String(), `"credentials"`) {
		t.Errorf("hostile body: %d, %d bytes answered (want 422, under 4 KiB, naming credentials)\n%s", resp.StatusCode, out.Len(), limitText(out.String(), 500))
	}
	if all, _ := c.app.cat.List(asAdmin()); len(all) != 0 {
		t.Errorf("saved %d records", len(all))
	}
	// Many problems within the bound: a short list and the count of the rest.
	many := map[string]string{"username": "u"}
	for i := range 30 {
		many[fmt.Sprint("unknown", i)] = "v"
	}
	status, _, b := c.api("admin", adminPassword, "POST", "/api/v1/registries", map[string]any{"name": "x", "type": "Custom", "url": "r.example.com", "credentials": many})
	var e apiError
	json.Unmarshal(b, &e)
	if status != http.StatusUnprocessableEntity || len(e.Fields) > maxFieldErrors || len(e.Fields)+e.MoreFields < 30 {
		t.Errorf("30 unknown keys: %d, %d listed and %d more", status, len(e.Fields), e.MoreFields)
	}
}

// BenchmarkHostileBody is the CPU a 1 MB body of 80,000 unknown credential keys costs the
// console, through its handler (target: under 100 ms).
func BenchmarkHostileBody(b *testing.B) {
	c, _ := benchConsole(b, 0)
	h := c.app.Handler()
	body := hostileBody()
	b.ReportAllocs()
	var size int
	for b.Loop() {
		r := httptest.NewRequest("POST", "/api/v1/registries", bytes.NewReader(body))
		r.SetBasicAuth("admin", adminPassword)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code < 400 {
			b.Fatalf("hostile body accepted: %d", w.Code)
		}
		size = w.Body.Len()
	}
	b.ReportMetric(float64(size), "B/answer")
}

// TestAPIPutKeepsWhatItOmits: a PUT of the password alone keeps the CA bundle, the scope
// and everything else; the body's scope key is taken; an unknown key is named.
func TestAPIPutKeepsWhatItOmits(t *testing.T) {
	c := newTestConsole(t)
	ca := string(testenv.NewCA(t).CertPEM)
	status, _, body := c.api("admin", adminPassword, "POST", "/api/v1/registries", map[string]any{
		"name": "Team", "type": "Custom", "url": "registry.example.com",
		"credentials": map[string]string{"username": "deploy", "password": "first-password-1"},
		"tls":         map[string]any{"mode": "ca", "caBundle": ca},
		"scope":       map[string]any{"teams": []string{"payments"}}})
	if status != http.StatusCreated {
		t.Fatalf("create with tls and scope: %d %s", status, body)
	}
	var rec apiRegistry
	json.Unmarshal(body, &rec)
	if rec.Scope == nil || strings.Join(rec.Scope.Teams, ",") != "payments" {
		t.Errorf("scope not taken: %s", body)
	}
	path := "/api/v1/registries/" + rec.ID
	status, _, body = c.api("admin", adminPassword, "PUT", path, map[string]any{"credentials": map[string]string{"password": "second-password-2"}}, "If-Match", `"v1"`)
	if status != http.StatusOK {
		t.Fatalf("PUT of the password alone: %d %s", status, body)
	}
	full, err := c.app.cat.Reveal(asAdmin(), rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if full.Fields["password"] != "second-password-2" || full.TLS.CABundle != ca || full.TLS.Mode != registry.TLSCustomCA ||
		full.Name != "Team" || full.Fields["username"] != "deploy" || strings.Join(full.Scope.Teams, ",") != "payments" {
		t.Errorf("after a PUT of the password alone: password rotated %v, CA kept %v, name %q, username %q, scope %v",
			full.Fields["password"] == "second-password-2", full.TLS.CABundle == ca, full.Name, full.Fields["username"], full.Scope)
	}
	status, _, body = c.api("admin", adminPassword, "POST", "/api/v1/registries", map[string]any{"name": "x", "type": "Public", "bogus": 1})
	if status != http.StatusBadRequest || !strings.Contains(string(body), `\"bogus\"`) {
		t.Errorf("an unknown key: %d %s, want 400 naming it", status, body)
	}
	entries, _ := c.app.auditEntries(asAdmin(), 10)
	if len(entries) == 0 || entries[0].Actor != "admin" || entries[0].Action != "registry.rotate" || entries[0].Detail != "changed password (rotated)" {
		t.Errorf("audit of the PUT of the password alone: %+v", entries[0])
	}
}

// TestAPIDocumentsShape: the documents' registries as they write them: no type, flat
// username and password; GHCR's password is its token; what was inferred is said.
func TestAPIDocumentsShape(t *testing.T) {
	c := newTestConsole(t)
	for _, tc := range []struct {
		body       map[string]any
		wantType   string
		wantSecret string
	}{
		{map[string]any{"name": "GitHub Registry", "url": "ghcr.io", "username": "my-github-user", "password": "ghp_xxxxxxxxxxxx"}, "GHCR", "token"},
		{map[string]any{"name": "Docker Hub", "url": "docker.io", "username": "myuser", "password": "dckr_pat_xxxxx"}, "Docker", "password"},
		{map[string]any{"name": "Private Registry", "url": "registry.mycompany.com", "username": "admin", "password": "secretpassword"}, "Custom", "password"},
		{map[string]any{"name": "My GHCR", "type": "GHCR", "credentials": map[string]string{"username": "myorg", "password": "ghp_yyyy"}}, "GHCR", "token"},
	} {
		status, _, body := c.api("admin", adminPassword, "POST", "/api/v1/registries", tc.body)
		var rec apiRegistry
		json.Unmarshal(body, &rec)
		if status != http.StatusCreated || rec.Type != tc.wantType || strings.Join(rec.StoredSecrets, ",") != tc.wantSecret {
			t.Errorf("%v: %d, type %q, stored %v\n%s", tc.body["name"], status, rec.Type, rec.StoredSecrets, body)
		}
		if _, typed := tc.body["type"]; !typed && rec.Inferred == nil {
			t.Errorf("%v: the answer does not say the type was inferred", tc.body["name"])
		}
	}
}

// TestAPIDraftTest: the API tests a registry that is not saved, with an image, against a
// real registry.
func TestAPIDraftTest(t *testing.T) {
	const user, pass = "api-user", "Api-Registry-Pass-1"
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth(user, pass))
	image := reg.Push(t, "team/app:v1")
	c := newTestConsole(t, withTestOptions(conntest.WithTimeout(10*time.Second)))
	draft := func(password, image string) map[string]any {
		return map[string]any{"name": "draft", "type": "Custom", "url": reg.URL, "tls": map[string]string{"mode": "insecure"},
			"credentials": map[string]string{"username": user, "password": password}, "image": image}
	}
	verdicts := func(body []byte) map[string]string {
		var rep struct {
			Steps []struct{ Name, Verdict string }
		}
		json.Unmarshal(body, &rep)
		out := map[string]string{}
		for _, s := range rep.Steps {
			out[s.Name] = s.Verdict
		}
		return out
	}
	status, _, body := c.api("admin", adminPassword, "POST", "/api/v1/registries/test", draft("wrong-password", ""))
	if v := verdicts(body); status != 200 || v["auth"] != "failed" {
		t.Errorf("draft with a wrong password: %d %v", status, v)
	}
	status, _, body = c.api("admin", adminPassword, "POST", "/api/v1/registries/test", draft(pass, image))
	if v := verdicts(body); status != 200 || v["auth"] != "ok" || v["image"] != "ok" {
		t.Errorf("draft with the image %s: %d %v\n%s", image, status, v, body)
	}
	status, _, body = c.api("admin", adminPassword, "POST", "/api/v1/registries/test", draft(pass, strings.Replace(image, "team/app", "team/missing", 1)))
	if v := verdicts(body); status != 200 || v["image"] != "failed" {
		t.Errorf("draft with a missing image: %d %v", status, v)
	}
	if all, _ := c.app.cat.List(asAdmin()); len(all) != 0 {
		t.Errorf("a draft test saved %d records", len(all))
	}
}
