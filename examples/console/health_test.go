package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
)

// rowOf is the registries table's row of id, as HTML.
func rowOf(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<tr data-id="` + regexp.QuoteMeta(id) + `".*?</tr>`).FindString(page)
	if m == "" {
		t.Fatalf("no row of %s", id)
	}
	return m
}

// TestHealthAndExpiryCells: a test result from before the last change says so (not red);
// token kinds show their tokens' real lifetime; a credential past its end and one near
// it are called out; a test that tested nothing says "not tested" with what to do.
func TestHealthAndExpiryCells(t *testing.T) {
	c := newTestConsole(t)
	now := time.Now().UTC()
	add := func(body map[string]any) string {
		t.Helper()
		status, _, b := c.api("admin", adminPassword, "POST", "/api/v1/registries", body)
		var rec apiRegistry
		json.Unmarshal(b, &rec)
		if status != 201 {
			t.Fatalf("%v: %d %s", body["name"], status, b)
		}
		return rec.ID
	}
	custom := map[string]string{"username": "u", "password": "p"}
	expired := add(map[string]any{"name": "expired", "type": "Custom", "url": "a.example.com", "credentials": custom, "credentialsExpire": now.Add(-50 * time.Hour)})
	soon := add(map[string]any{"name": "soon", "type": "Custom", "url": "b.example.com", "credentials": custom, "credentialsExpire": now.Add(75 * time.Hour)})
	ecr := add(map[string]any{"name": "ecr", "type": "ECR", "credentials": map[string]string{"region": "us-east-1", "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}})
	kube := add(map[string]any{"name": "kube", "type": "Kubernetes", "url": "payload.example.com", "credentials": map[string]string{"serviceAccount": "ns/sa", "expirationSeconds": "3600"}})
	stale := add(map[string]any{"name": "stale", "type": "Custom", "url": "c.example.com", "credentials": custom})
	hs := c.st.records.(registry.HealthStore)
	if err := hs.UpdateHealth(asAdmin(), stale, func(h *registry.Health) {
		h.Test = &registry.TestHealth{Verdict: registry.VerdictFailed, Step: registry.StepAuth, Cause: "wrong password", At: now, Version: 1}
	}); err != nil {
		t.Fatal(err)
	}
	if status, _, b := c.api("admin", adminPassword, "PUT", "/api/v1/registries/"+stale, map[string]any{"credentials": map[string]string{"password": "right-one"}}, "If-Match", `"v1"`); status != 200 {
		t.Fatalf("rotate: %d %s", status, b)
	}
	b := c.login("admin", adminPassword)
	_, page := b.get("/registries")
	for _, tc := range []struct{ id, want string }{
		{expired, `<span class="expiry-bad">expired 2 days ago`},
		{soon, `<span class="expiry-warn">expires in 3 days`},
		{ecr, `12 h tokens`},
		{kube, `1 h tokens (as requested)`},
		{stale, `<span class="verdict stale">failed before the last change</span>`},
	} {
		if row := rowOf(t, page, tc.id); !strings.Contains(row, tc.want) {
			t.Errorf("row %s lacks %q:\n%s", tc.id, tc.want, row)
		}
	}
	// ECR's server is a pattern: without an image nothing can be tried.
	status, rep := b.post("/registries/"+ecr+"/test", url.Values{})
	if status != 200 || !strings.Contains(rep, `data-outcome="not tested"`) || !strings.Contains(rep, "What you can do:") || strings.Contains(rep, ": passed</h2>") {
		t.Errorf("ECR tested without an image: %d, not-tested %v, says what to do %v", status, strings.Contains(rep, `data-outcome="not tested"`), strings.Contains(rep, "What you can do:"))
	}
}

// TestDeploymentPicker: the picker chooses the default registry and takes the image,
// which must be on the chosen registry's host.
func TestDeploymentPicker(t *testing.T) {
	c := newTestConsole(t)
	var ids []string
	for _, body := range []map[string]any{
		{"name": "first", "type": "Custom", "url": "first.example.com"},
		{"name": "second", "type": "GHCR", "credentials": map[string]string{"username": "u", "token": "ghp_x"}},
	} {
		_, _, b := c.api("admin", adminPassword, "POST", "/api/v1/registries", body)
		var rec apiRegistry
		json.Unmarshal(b, &rec)
		ids = append(ids, rec.ID)
	}
	b := c.login("admin", adminPassword)
	b.get("/registries")
	if status, _ := b.post("/registries/"+ids[1]+"/default", url.Values{}); status != 200 {
		t.Fatalf("set default: %d", status)
	}
	_, page := b.get("/deployments")
	if !strings.Contains(page, `<option value="`+ids[1]+`" selected>`) {
		t.Errorf("the picker does not choose the default registry:\n%s", regexp.MustCompile(`(?s)<select id="dep-registry".*?</select>`).FindString(page))
	}
	if status, page := b.post("/deployments", url.Values{"name": {"api"}, "registry": {ids[1]}, "image": {"quay.io/org/api:v2"}}); status != 422 || !strings.Contains(page, "is on quay.io") {
		t.Errorf("an image on another host: %d", status)
	}
	if status, page := b.post("/deployments", url.Values{"name": {"api"}, "registry": {ids[1]}, "image": {"ghcr.io/org/api:v2"}}); status != 200 || !strings.Contains(page, "ghcr.io/org/api:v2") {
		t.Errorf("a deployment with its image: %d", status)
	}
}

// TestShadowWarnedAtSave: a Public docker.io entry saved beside the Docker Hub credentials
// is warned about at save, on the page and in the API.
func TestShadowWarnedAtSave(t *testing.T) {
	c := newTestConsole(t)
	status, _, body := c.api("admin", adminPassword, "POST", "/api/v1/registries", map[string]any{"name": "Docker Hub", "type": "Docker", "credentials": map[string]string{"username": "me", "password": "dckr_pat_x"}})
	if status != 201 {
		t.Fatalf("%d %s", status, body)
	}
	b := c.login("admin", adminPassword)
	b.get("/registries/new")
	status, page := b.post("/registries/new", url.Values{"action": {"save"}, "type": {"public"}, "name": {"Public docker.io"}, "url": {"docker.io"}})
	if status != 200 || !strings.Contains(page, `id="save-warnings"`) || !strings.Contains(page, "Docker Hub") {
		t.Errorf("saving a Public docker.io beside Docker Hub credentials: %d, warned %v", status, strings.Contains(page, `id="save-warnings"`))
	}
	status, _, body = c.api("admin", adminPassword, "POST", "/api/v1/registries", map[string]any{"name": "Public again", "type": "Public", "url": "docker.io"})
	var rec apiRegistry
	json.Unmarshal(body, &rec)
	if status != 201 || len(rec.Warnings) == 0 {
		t.Errorf("API save of a shadowed Public entry: %d, warnings %v", status, rec.Warnings)
	}
}

// TestListPagesAndFinds: the table shows 50 registries at a time with the count, pages
// on, and finds one by name.
func TestListPagesAndFinds(t *testing.T) {
	c := newTestConsole(t)
	for i := range 60 {
		if status, _, b := c.api("admin", adminPassword, "POST", "/api/v1/registries", map[string]any{"name": fmt.Sprintf("registry %02d", i), "type": "Public", "url": fmt.Sprintf("r%d.example.com", i)}); status != 201 {
			t.Fatalf("%d %s", status, b)
		}
	}
	b := c.login("admin", adminPassword)
	rows := func(page string) int { return strings.Count(page, "<tr data-id=") }
	_, page := b.get("/registries")
	if rows(page) != 50 || !strings.Contains(page, "1-50 of 60") || !strings.Contains(page, `href="/registries?page=2"`) {
		t.Errorf("first page: %d rows, count shown %v", rows(page), strings.Contains(page, "1-50 of 60"))
	}
	if _, page = b.get("/registries?page=2"); rows(page) != 10 || !strings.Contains(page, "registry 59") {
		t.Errorf("second page: %d rows", rows(page))
	}
	if _, page = b.get("/registries?q=registry+42"); rows(page) != 1 || !strings.Contains(page, "registry 42") {
		t.Errorf("find: %d rows", rows(page))
	}
}

// TestCAFileAndECRNote: a CA uploaded as a file (the form without its script) is saved as
// the CA bundle; the ECR form names the IAM permissions a pull needs.
func TestCAFileAndECRNote(t *testing.T) {
	c := newTestConsole(t)
	b := c.login("admin", adminPassword)
	_, page := b.get("/registries/new?type=ecr")
	for _, perm := range []string{"ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"} {
		if !strings.Contains(page, perm) {
			t.Errorf("the ECR form does not name %s", perm)
		}
	}
	ca := string(testenv.NewCA(t).CertPEM)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range map[string]string{"csrf": b.csrf, "action": "save", "type": "custom", "name": "with a CA file", "url": "registry.example.com", "tls.mode": "ca"} {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("tls.caFile", "ca.crt")
	fw.Write([]byte(ca))
	mw.Close()
	resp, err := b.http.Post(c.srv.URL+"/registries/new", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	all, _ := c.app.cat.List(asAdmin())
	if resp.StatusCode != 200 || len(all) != 1 || strings.TrimSpace(all[0].TLS.CABundle) != strings.TrimSpace(ca) {
		t.Errorf("a CA uploaded as a file: %d, %d records, CA saved %v", resp.StatusCode, len(all), len(all) == 1 && all[0].TLS.CABundle != "")
	}
}
