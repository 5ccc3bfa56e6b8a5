package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
)

func init() { bcryptCost = bcrypt.MinCost } // tests log in often; the policy is tested apart

const adminPassword = "correct-horse-battery-staple"

type testConsole struct {
	t   *testing.T
	app *app
	st  *storage
	srv *httptest.Server
	dir string
}

func newTestConsole(t *testing.T, opts ...appOption) *testConsole {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := openStorage(ctx, config{data: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a, err := newApp(ctx, st, slog.New(slog.DiscardHandler), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if gen, err := a.ensureAdmin(ctx, adminPassword); err != nil || gen != "" {
		t.Fatalf("ensureAdmin: %q, %v", gen, err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &testConsole{t: t, app: a, st: st, srv: srv, dir: dir}
}

// api calls the JSON API as user; it returns the status, headers and body.
func (c *testConsole) api(user, pass, method, path string, body any, hdr ...string) (int, http.Header, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.srv.URL+path, rd)
	req.SetBasicAuth(user, pass)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// browserless is a cookie-keeping client of the HTML pages.
type browserless struct {
	c    *testConsole
	http *http.Client
	csrf string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *testConsole) login(user, pass string) *browserless {
	c.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browserless{c: c, http: &http.Client{Jar: jar}}
	status, body := b.post("/login", url.Values{"username": {user}, "password": {pass}})
	if status != http.StatusOK || !strings.Contains(body, "Container registries") {
		c.t.Fatalf("login as %s: %d\n%s", user, status, body)
	}
	return b
}

func (b *browserless) get(path string) (int, string) {
	b.c.t.Helper()
	resp, err := b.http.Get(b.c.srv.URL + path)
	if err != nil {
		b.c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body)
}

func (b *browserless) post(path string, form url.Values) (int, string) {
	b.c.t.Helper()
	if b.csrf != "" && form.Get("csrf") == "" {
		form.Set("csrf", b.csrf)
	}
	resp, err := b.http.PostForm(b.c.srv.URL+path, form)
	if err != nil {
		b.c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body)
}

func TestAPIOptimisticUpdates(t *testing.T) {
	c := newTestConsole(t)
	const secret = "ghp_api-secret-value-1"
	status, hdr, body := c.api("admin", adminPassword, "POST", "/api/v1/registries",
		map[string]any{"name": "My GHCR", "type": "GHCR", "credentials": map[string]string{"username": "myorg", "token": secret}})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	var created apiRegistry
	json.Unmarshal(body, &created)
	if hdr.Get("ETag") != `"v1"` || created.Type != "GHCR" || created.Credentials["username"] != "myorg" || strings.Join(created.StoredSecrets, ",") != "token" {
		t.Fatalf("create answered ETag %q, %+v", hdr.Get("ETag"), created)
	}
	path := "/api/v1/registries/" + created.ID
	status, hdr, body = c.api("admin", adminPassword, "GET", path, nil)
	if status != 200 || hdr.Get("ETag") != `"v1"` {
		t.Fatalf("get: %d %q %s", status, hdr.Get("ETag"), body)
	}
	edit := map[string]any{"name": "My GHCR", "type": "GHCR", "credentials": map[string]string{"username": "other"}}
	if status, _, body = c.api("admin", adminPassword, "PUT", path, edit); status != http.StatusPreconditionRequired {
		t.Errorf("PUT without If-Match: %d %s, want 428", status, body)
	}
	status, hdr, body = c.api("admin", adminPassword, "PUT", path, edit, "If-Match", `"v1"`)
	if status != 200 || hdr.Get("ETag") != `"v2"` {
		t.Fatalf("PUT with the current ETag: %d %q %s", status, hdr.Get("ETag"), body)
	}
	var updated apiRegistry
	json.Unmarshal(body, &updated)
	if updated.Credentials["username"] != "other" || strings.Join(updated.StoredSecrets, ",") != "token" {
		t.Errorf("a PUT without the token must keep it: %+v", updated)
	}
	if status, _, body = c.api("admin", adminPassword, "PUT", path, edit, "If-Match", `"v1"`); status != http.StatusPreconditionFailed {
		t.Errorf("PUT with a stale ETag: %d %s, want 412", status, body)
	}
	if status, _, _ = c.api("admin", adminPassword, "DELETE", path, nil, "If-Match", `"v1"`); status != http.StatusPreconditionFailed {
		t.Errorf("DELETE with a stale ETag: %d, want 412", status)
	}
	// The stored token is the original one: the PUT kept it.
	full, err := c.app.cat.Reveal(asAdmin(), created.ID)
	if err != nil || full.Fields["token"] != secret {
		t.Errorf("stored token after the PUT: changed (%v)", err)
	}
	status, _, body = c.api("admin", adminPassword, "GET", "/api/v1/registries", nil)
	if status != 200 || bytes.Contains(body, []byte(secret)) || !bytes.Contains(body, []byte(created.ID)) {
		t.Errorf("list: %d, secret present %v\n%s", status, bytes.Contains(body, []byte(secret)), body)
	}
	if status, _, _ = c.api("admin", "wrong-password", "GET", "/api/v1/registries", nil); status != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", status)
	}
	if status, _, _ = c.api("admin", adminPassword, "DELETE", path, nil); status != http.StatusNoContent {
		t.Errorf("DELETE: %d", status)
	}
	if status, _, _ = c.api("admin", adminPassword, "GET", path, nil); status != http.StatusNotFound {
		t.Errorf("GET after DELETE: %d, want 404", status)
	}
}

func TestAPIValidationNamesEveryField(t *testing.T) {
	c := newTestConsole(t)
	status, _, body := c.api("admin", adminPassword, "POST", "/api/v1/registries",
		map[string]any{"name": "", "type": "ECR", "credentials": map[string]string{"region": "nowhere", "secretAccessKey": "wJalr-not-shown"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d %s", status, body)
	}
	var e apiError
	json.Unmarshal(body, &e)
	got := map[string]bool{}
	for _, f := range e.Fields {
		got[f.Field] = true
	}
	if !got["name"] || !got["region"] || bytes.Contains(body, []byte("wJalr-not-shown")) {
		t.Errorf("problems %+v (want name and region; never the secret)\n%s", e.Fields, body)
	}
	if status, _, body = c.api("admin", adminPassword, "POST", "/api/v1/registries", map[string]any{"name": "x", "type": "Nope"}); status != 422 || !bytes.Contains(body, []byte(`"type"`)) {
		t.Errorf("unknown type: %d %s", status, body)
	}
}

// TestPermissions: the pages and the API render and enforce the Catalog's policy: a
// member sees and tests a shared registry but is not offered, and is refused, edit,
// default and delete (pages and API alike); someone outside a registry's scope does not
// see it; the owner deletes after confirming by name; an admin may do everything. The
// audit log names each user's change.
func TestPermissions(t *testing.T) {
	c := newTestConsole(t)
	ctx := context.Background()
	admin := c.login("admin", adminPassword)
	admin.get("/users")
	for _, u := range []url.Values{
		{"username": {"bob"}, "password": {"bob-password-123"}},
		{"username": {"carol"}, "password": {"carol-password-1"}, "teams": {"payments"}},
		{"username": {"dave"}, "password": {"dave-password-12"}, "teams": {"marketing"}},
	} {
		if status, body := admin.post("/users", u); status != 200 || !strings.Contains(body, "User created") {
			t.Fatalf("create %s: %d\n%s", u.Get("username"), status, body)
		}
	}
	_, usersPage := admin.get("/users")
	if !strings.Contains(usersPage, `id="policy"`) || strings.Count(usersPage, "<th scope=\"row\">") != 4 {
		t.Error("the users page does not render the policy table")
	}
	bob := c.login("bob", "bob-password-123")
	bob.get("/registries/new")
	for _, form := range []url.Values{
		{"action": {"save"}, "type": {"custom"}, "name": {"shared"}, "url": {"registry.example.com"}, "username": {"bob"}, "password": {"bob-registry-pass"}},
		{"action": {"save"}, "type": {"custom"}, "name": {"payments only"}, "url": {"pay.example.com"}, "username": {"bob"}, "password": {"bob-registry-pass"}, "scope.teams": {"payments"}},
	} {
		if status, body := bob.post("/registries/new", form); status != 200 || !strings.Contains(body, "Registry saved") {
			t.Fatalf("bob saves %s: %d\n%s", form.Get("name"), status, limitText(body, 2000))
		}
	}
	ids := map[string]string{}
	all, _ := c.app.cat.List(catalog.WithPrincipal(ctx, catalog.Principal{User: "admin", Roles: []string{catalog.RoleAdmin}}))
	for _, r := range all {
		ids[r.Name] = r.ID
	}
	shared, payments := ids["shared"], ids["payments only"]

	carol := c.login("carol", "carol-password-1")
	_, page := carol.get("/registries")
	for _, id := range []string{shared, payments} {
		if !strings.Contains(page, `data-id="`+id+`"`) {
			t.Errorf("carol (a member) does not see %s", id)
		}
		for _, offered := range []string{`/registries/` + id + `/delete"`, `formaction="/registries/` + id + `/default"`, `aria-label="Edit or rotate`} {
			if strings.Contains(page, offered) {
				t.Errorf("carol is offered %s", offered)
			}
		}
		if !strings.Contains(page, `formaction="/registries/`+id+`/test"`) {
			t.Errorf("carol is not offered Test on %s", id)
		}
	}
	for _, tc := range []struct{ method, path string }{
		{"GET", "/registries/" + shared + "/delete"},
		{"POST", "/registries/" + shared + "/delete"},
		{"POST", "/registries/" + shared + "/default"},
		{"POST", "/registries/" + shared + "/edit"},
	} {
		var status int
		var body string
		if tc.method == "GET" {
			status, body = carol.get(tc.path)
		} else {
			status, body = carol.post(tc.path, url.Values{"action": {"save"}, "confirm": {"shared"}, "version": {"1"}, "type": {"custom"}, "name": {"taken"}, "url": {"registry.example.com"}, "username": {"carol"}})
		}
		if status != http.StatusForbidden || !strings.Contains(body, "may not") {
			t.Errorf("carol %s %s: %d, want 403 saying why", tc.method, tc.path, status)
		}
	}
	if status, _, _ := c.api("carol", "carol-password-1", "DELETE", "/api/v1/registries/"+shared, nil); status != http.StatusForbidden {
		t.Errorf("carol deletes through the API: %d, want 403", status)
	}
	if status, _, _ := c.api("carol", "carol-password-1", "PUT", "/api/v1/registries/"+shared, map[string]any{"name": "taken"}, "If-Match", `"v1"`); status != http.StatusForbidden {
		t.Errorf("carol edits through the API: %d, want 403", status)
	}
	dave := c.login("dave", "dave-password-12")
	if _, page := dave.get("/registries"); strings.Contains(page, payments) || !strings.Contains(page, shared) {
		t.Errorf("dave (marketing) sees payments' registry %v, the shared one %v", strings.Contains(page, payments), strings.Contains(page, shared))
	}
	if status, _, _ := c.api("dave", "dave-password-12", "GET", "/api/v1/registries/"+payments, nil); status != http.StatusForbidden && status != http.StatusNotFound {
		t.Errorf("dave reads payments' registry through the API: %d", status)
	}

	// The owner deletes after confirming by name; a wrong name deletes nothing.
	_, confirm := bob.get("/registries/" + shared + "/delete")
	if !strings.Contains(confirm, "Nothing uses it") || !strings.Contains(confirm, `id="confirm"`) {
		t.Errorf("the confirmation does not say what the delete affects:\n%s", limitText(confirm, 2000))
	}
	if status, _ := bob.post("/registries/"+shared+"/delete", url.Values{"confirm": {"shard"}}); status != http.StatusUnprocessableEntity {
		t.Errorf("delete with a mistyped name: %d, want 422", status)
	}
	if _, err := c.app.cat.Get(catalog.WithPrincipal(ctx, catalog.Principal{User: "bob"}), shared); err != nil {
		t.Fatalf("a mistyped confirmation deleted the registry: %v", err)
	}
	if status, body := bob.post("/registries/"+shared+"/delete", url.Values{"confirm": {"shared"}}); status != 200 || !strings.Contains(body, "Registry deleted") {
		t.Errorf("bob deletes his registry: %d", status)
	}
	// An admin may delete anyone's (the policy's table).
	if status, _, body := c.api("admin", adminPassword, "DELETE", "/api/v1/registries/"+payments, nil); status != http.StatusNoContent {
		t.Errorf("admin deletes bob's registry: %d %s", status, body)
	}

	// Disabled and removed users are out at once; a password change ends the other sessions.
	if status, _ := admin.post("/users/carol", url.Values{"op": {"disable"}}); status != 200 {
		t.Errorf("disable carol: %d", status)
	}
	if status, body := carol.get("/registries"); status != 200 || !strings.Contains(body, `id="login-form"`) {
		t.Errorf("carol's session after she was disabled: %d, not the login page", status)
	}
	if s := c.loginStatus("carol", "carol-password-1"); s != http.StatusUnauthorized {
		t.Errorf("a disabled user logs in: %d", s)
	}
	if status, _ := admin.post("/users/dave", url.Values{"op": {"remove"}}); status != 200 {
		t.Errorf("remove dave: %d", status)
	}
	if status, _, _ := c.api("dave", "dave-password-12", "GET", "/api/v1/registries", nil); status != http.StatusUnauthorized {
		t.Errorf("a removed user's API call: %d, want 401", status)
	}
	bob2 := c.login("bob", "bob-password-123")
	bob.get("/users")
	if status, body := bob.post("/account/password", url.Values{"current": {"bob-password-123"}, "new": {"bob-new-password-456"}}); status != 200 || !strings.Contains(body, "other sessions ended") {
		t.Fatalf("bob changes his password: %d", status)
	}
	if _, body := bob2.get("/registries"); !strings.Contains(body, `id="login-form"`) {
		t.Error("bob's other session survived his password change")
	}
	if _, body := bob.get("/registries"); strings.Contains(body, `id="login-form"`) {
		t.Error("the session that changed the password ended")
	}

	entries, err := c.app.auditEntries(asAdmin(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for _, e := range entries {
		log = append(log, e.Actor+" "+e.Action+" "+e.Target+" "+e.Detail)
	}
	text := strings.Join(log, "\n")
	for _, want := range []string{"admin user.create bob", "bob registry.add shared", "bob registry.delete shared", "admin registry.delete payments only", "admin user.disable carol", "bob user.password bob"} {
		if !strings.Contains(text, want) {
			t.Errorf("audit log lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "bob-registry-pass") || strings.Contains(text, "bob-password-123") {
		t.Errorf("audit log holds a secret:\n%s", text)
	}
}

func TestFormsNeedTheirCSRFToken(t *testing.T) {
	c := newTestConsole(t)
	b := c.login("admin", adminPassword)
	b.get("/registries")
	if status, _ := b.post("/registries/new", url.Values{"csrf": {"forged"}, "action": {"save"}, "type": {"public"}, "name": {"x"}}); status != http.StatusForbidden {
		t.Errorf("forged token: %d, want 403", status)
	}
	// A cross-site request is refused by http.CrossOriginProtection even with the token.
	req, _ := http.NewRequest("POST", c.srv.URL+"/registries/new", strings.NewReader(url.Values{"csrf": {b.csrf}, "type": {"public"}, "name": {"x"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST: %d, want 403", resp.StatusCode)
	}
	if all, _ := c.app.cat.List(asAdmin()); len(all) != 0 {
		t.Errorf("a refused form saved %d records", len(all))
	}
}

func TestLoginSecurity(t *testing.T) {
	c := newTestConsole(t)
	form := url.Values{"username": {"admin"}, "password": {adminPassword}}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).PostForm(c.srv.URL+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict", cookie)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	// Only the hash of the session token is stored.
	var n int
	c.st.accounts.db.QueryRow(`SELECT COUNT(*) FROM console_sessions WHERE token_hash = $1`, cookie.Value).Scan(&n)
	if n != 0 {
		t.Error("the session token is stored as is")
	}
	// Rate limit: after 5 failures even the right password waits.
	for i := range 5 {
		r, _ := http.PostForm(c.srv.URL+"/login", url.Values{"username": {"admin"}, "password": {fmt.Sprint("guess", i)}})
		r.Body.Close()
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, r.StatusCode)
		}
	}
	r, _ := http.PostForm(c.srv.URL+"/login", form)
	r.Body.Close()
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Errorf("after 5 failures: %d (Retry-After %q), want 429", r.StatusCode, r.Header.Get("Retry-After"))
	}
}

// TestFirstStart: the key and the admin password are made once; the key file is 0600;
// the password is printed on the first start only; /healthz answers.
func TestFirstStart(t *testing.T) {
	dir := t.TempDir()
	start := func() string {
		ctx, cancel := context.WithCancel(context.Background())
		var out bytes.Buffer
		ready := make(chan string, 1)
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--data", dir}, func(string) string { return "" }, &out, io.Discard, ready)
		}()
		var addr string
		select {
		case addr = <-ready:
		case err := <-done:
			t.Fatalf("run: %v", err)
		}
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("healthz: %v %v", resp, err)
		}
		resp.Body.Close()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("run: %v", err)
		}
		return out.String()
	}
	first := start()
	m := regexp.MustCompile(`(?m)^    (\S+)$`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("first start printed no password:\n%s", first)
	}
	fi, err := os.Stat(filepath.Join(dir, keyFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	key1, _ := os.ReadFile(filepath.Join(dir, keyFileName))
	second := start()
	if strings.Contains(second, m[1]) || strings.Contains(second, "password") {
		t.Errorf("second start printed the password again:\n%s", second)
	}
	key2, _ := os.ReadFile(filepath.Join(dir, keyFileName))
	if !bytes.Equal(key1, key2) {
		t.Error("the second start replaced the key")
	}
	// The generated password logs in.
	st, err := openStorage(context.Background(), config{data: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.accounts.verify(context.Background(), "admin", m[1]); err != nil {
		t.Errorf("the printed password does not log in: %v", err)
	}
}

func TestPostgresNeedsTheSharedKey(t *testing.T) {
	t.Setenv("REGCRED_MASTER_KEYS", "")
	_, err := openStorage(context.Background(), config{store: "postgres://console:pw@127.0.0.1:1/regcred"})
	if err == nil || !strings.Contains(err.Error(), "--key-file") || strings.Contains(err.Error(), "pw@") {
		t.Errorf("err = %v: want the shared-key rule, without the DSN's password", err)
	}
	_, err = openStorage(context.Background(), config{store: "mysql://u:pw@h/db"})
	if err == nil || strings.Contains(err.Error(), "pw@") {
		t.Errorf("err = %v", err)
	}
}

// TestSealedAtRest: a saved secret is not in the database file in clear.
func TestSealedAtRest(t *testing.T) {
	c := newTestConsole(t)
	const secret = "sealed-secret-value-42"
	if status, _, body := c.api("admin", adminPassword, "POST", "/api/v1/registries",
		map[string]any{"name": "c", "type": "Custom", "url": "registry.example.com", "credentials": map[string]string{"username": "u", "password": secret}}); status != 201 {
		t.Fatalf("%d %s", status, body)
	}
	c.st.Close()
	for _, name := range []string{"regcred.db", "regcred.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(c.dir, name))
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the secret in clear", name)
		}
	}
}

func TestEditFormNeverSendsTheStoredSecret(t *testing.T) {
	c := newTestConsole(t)
	const secret = "edit-form-secret-77"
	_, _, body := c.api("admin", adminPassword, "POST", "/api/v1/registries",
		map[string]any{"name": "c", "type": "Custom", "url": "registry.example.com", "credentials": map[string]string{"username": "u", "password": secret}})
	var rec apiRegistry
	json.Unmarshal(body, &rec)
	b := c.login("admin", adminPassword)
	status, page := b.get("/registries/" + rec.ID + "/edit")
	if status != 200 || strings.Contains(page, secret) || strings.Contains(page, registry.Redacted) || !strings.Contains(page, "leave blank to keep") {
		t.Errorf("edit page: %d, secret %v, REDACTED %v, hint %v", status, strings.Contains(page, secret), strings.Contains(page, registry.Redacted), strings.Contains(page, "leave blank to keep"))
	}
	// Saving with the password blank keeps it; a stale version is a conflict.
	status, page = b.post("/registries/"+rec.ID+"/edit", url.Values{"action": {"save"}, "version": {"1"}, "type": {"custom"}, "name": {"renamed"}, "url": {"registry.example.com"}, "username": {"u"}})
	if status != 200 || !strings.Contains(page, "Changes saved") {
		t.Fatalf("save: %d\n%s", status, page)
	}
	full, _ := c.app.cat.Reveal(asAdmin(), rec.ID)
	if full.Name != "renamed" || full.Fields["password"] != secret {
		t.Errorf("after a save with the password blank: name %q, password kept %v", full.Name, full.Fields["password"] == secret)
	}
	status, page = b.post("/registries/"+rec.ID+"/edit", url.Values{"action": {"save"}, "version": {"1"}, "type": {"custom"}, "name": {"again"}, "url": {"registry.example.com"}, "username": {"u"}})
	if status != http.StatusConflict || !strings.Contains(page, "someone changed this registry") {
		t.Errorf("stale save: %d", status)
	}
}

func TestLimiterWindow(t *testing.T) {
	l := newLoginLimiter(2, 10, 10, time.Minute)
	now := time.Unix(1000, 0)
	l.attempt(now, "a", "u")
	l.attempt(now, "a", "u")
	if _, wait := l.attempt(now, "a", "u"); wait == 0 {
		t.Fatal("not blocked after 2 failures")
	}
	if _, wait := l.attempt(now.Add(time.Minute), "a", "u"); wait != 0 {
		t.Error("still blocked after the window")
	}
}

// loginStatus posts the login form and returns the status (the redirect not followed).
func (c *testConsole) loginStatus(name, password string) int {
	c.t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(c.srv.URL+"/login", url.Values{"username": {name}, "password": {password}})
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestLoginLimits: failures are limited per account and per address, a spray of names
// from one address never locks out the users who log in there, and a concurrent burst of
// guesses is counted before the passwords are checked.
func TestLoginLimits(t *testing.T) {
	c := newTestConsole(t)
	ctx := context.Background()
	for _, n := range []string{"bob", "carol"} {
		if err := c.st.accounts.createUser(ctx, user{Name: n, Role: roleUser, Creator: "admin"}, n+"-password-123", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if s := c.loginStatus("bob", "bob-password-123"); s != http.StatusSeeOther {
		t.Fatalf("bob logs in: %d", s)
	}
	// Five failures under other names (yesterday's lock-out for everyone on the address).
	for i := range 5 {
		if s := c.loginStatus(fmt.Sprint("nobody", i), "guess"); s != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, s)
		}
	}
	if s := c.loginStatus("carol", "carol-password-123"); s != http.StatusSeeOther {
		t.Errorf("carol after 5 failures of other names from her address: %d, want a login", s)
	}
	// A spray of 30 names: the sprayer's next new name waits; bob, who logs in here, does not.
	for i := range 30 {
		c.loginStatus(fmt.Sprint("spray", i), "guess")
	}
	if s := c.loginStatus("spray-next", "guess"); s != http.StatusTooManyRequests {
		t.Errorf("the 31st sprayed name: %d, want 429", s)
	}
	if s := c.loginStatus("bob", "bob-password-123"); s != http.StatusSeeOther {
		t.Errorf("bob after a spray from his address: %d, want a login", s)
	}
	// A burst of 150 concurrent guesses at admin: at most 5 passwords are checked.
	var wg sync.WaitGroup
	statuses := make(chan int, 150)
	for i := range 150 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- c.loginStatus("admin", fmt.Sprint("burst-guess-", i))
		}()
	}
	wg.Wait()
	close(statuses)
	checked := 0
	for s := range statuses {
		if s == http.StatusUnauthorized {
			checked++
		}
	}
	if checked > 5 {
		t.Errorf("%d of 150 concurrent guesses were checked, want at most 5", checked)
	}
}

// TestUnknownNamesCostAHash: an unknown name is checked against a hash of the cost real
// hashes have, so both are answered in the same time.
func TestUnknownNamesCostAHash(t *testing.T) {
	defer func(c int) { bcryptCost = c }(bcryptCost)
	bcryptCost = bcrypt.MinCost + 2
	if got, err := bcrypt.Cost(dummyHash()); err != nil || got != bcryptCost {
		t.Errorf("the unknown-name hash has cost %d (%v), real hashes %d", got, err, bcryptCost)
	}
}

// TestTableEscapes: the hand-written table rows escape every value, in text and in
// attributes; a hostile name saved through the API renders as text.
func TestTableEscapes(t *testing.T) {
	const hostile = `<script>alert(1)</script>" onmouseover="x`
	out := string(tableRows([]rowView{{ID: `a"b/../c`, Name: hostile, Type: "Custom", Server: "<b>s</b>", Owner: `o"`,
		Verdict: "failed", TestStep: "<i>", TestCause: "<img src=x>", TestedAt: "now", Consumers: []string{"<u>dep</u>"}, CanDelete: true}}))
	for _, bad := range []string{"<script>", `" onmouseover="`, "<b>", "<i>", "<img", "<u>", `a"b`, `o"`} {
		if strings.Contains(out, bad) {
			t.Errorf("row holds %q unescaped:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, `href="/registries/a%22b%2F..%2Fc/delete"`) {
		t.Errorf("the ID is not escaped as a path segment:\n%s", out)
	}
	c := newTestConsole(t)
	if status, _, body := c.api("admin", adminPassword, "POST", "/api/v1/registries", map[string]any{"name": hostile, "type": "Public"}); status != 201 {
		t.Fatalf("%d %s", status, body)
	}
	b := c.login("admin", adminPassword)
	_, page := b.get("/registries")
	if strings.Contains(page, "<script>alert") || !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the page shows the name unescaped or not at all")
	}
}

func url2(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestTypeChangeWithoutScript: without the script, the type button re-renders the form
// with the new type's inputs, keeping what every type has.
func TestTypeChangeWithoutScript(t *testing.T) {
	c := newTestConsole(t)
	b := c.login("admin", adminPassword)
	b.get("/registries/new")
	status, page := b.post("/registries/new", url.Values{"action": {"retype"}, "type": {"ghcr"}, "name": {"kept name"}, "password": {"typed-secret-5"}})
	if status != 200 || !strings.Contains(page, `id="f-token"`) || strings.Contains(page, `id="f-password"`) || !strings.Contains(page, `value="kept name"`) {
		t.Errorf("retype to GHCR: %d, token input %v, name kept %v", status, strings.Contains(page, `id="f-token"`), strings.Contains(page, `value="kept name"`))
	}
	if strings.Contains(page, "typed-secret-5") {
		t.Error("the re-rendered form holds the typed secret")
	}
	if all, _ := c.app.cat.List(asAdmin()); len(all) != 0 {
		t.Errorf("a type change saved %d records", len(all))
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	c := newTestConsole(t)
	srv := httptest.NewTLSServer(c.app.Handler())
	defer srv.Close()
	secure, hdr := loginSecure(t, srv.Client(), srv.URL)
	if !secure || hdr.Get("Strict-Transport-Security") == "" {
		t.Errorf("over TLS: Secure cookie %v, HSTS %q", secure, hdr.Get("Strict-Transport-Security"))
	}
}

// loginSecure logs in as the admin and reports whether the session cookie is Secure, with
// the answer's headers.
func loginSecure(t *testing.T, client *http.Client, base string) (bool, http.Header) {
	t.Helper()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.PostForm(base+"/login", url.Values{"username": {"admin"}, "password": {adminPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var secure bool
	for _, ck := range resp.Cookies() {
		secure = secure || ck.Name == sessionCookie && ck.Secure
	}
	return secure, resp.Header
}

// TestHostStaticAndCookieFlags: the Host allow-list refuses a rebound name, /static/ lists
// nothing, and --secure-cookie marks the cookie Secure over plain HTTP.
func TestHostStaticAndCookieFlags(t *testing.T) {
	c := newTestConsole(t, withAllowedHosts(allowedHosts(config{addr: "127.0.0.1:8080"})...), withSecureCookie())
	get := func(path, host string) (int, string) {
		req, _ := http.NewRequest("GET", c.srv.URL+path, nil)
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if s, _ := get("/login", "attacker.example:8080"); s != http.StatusMisdirectedRequest {
		t.Errorf("a rebound host name: %d, want 421", s)
	}
	if s, _ := get("/login", "localhost:8080"); s != http.StatusOK {
		t.Errorf("localhost: %d", s)
	}
	for _, p := range []string{"/static/", "/static"} {
		if s, body := get(p, ""); s == http.StatusOK || strings.Contains(body, "console.js") {
			t.Errorf("%s: %d, lists %v", p, s, strings.Contains(body, "console.js"))
		}
	}
	if s, _ := get("/static/console.css", ""); s != http.StatusOK {
		t.Errorf("a static file: %d", s)
	}
	if secure, _ := loginSecure(t, &http.Client{}, c.srv.URL); !secure {
		t.Error("--secure-cookie over plain HTTP: the session cookie is not Secure")
	}
	if hosts := allowedHosts(config{addr: "0.0.0.0:8080", allowedHosts: "console.example.com, other"}); strings.Join(hosts, ",") != "console.example.com,other" {
		t.Errorf("--allowed-hosts: %v", hosts)
	}
}

// asAdmin is a context acting as an admin, for tests that read the Catalog directly.
func asAdmin() context.Context {
	return catalog.WithPrincipal(context.Background(), catalog.Principal{User: "admin", Roles: []string{catalog.RoleAdmin}})
}

// TestTypedSecretsSurviveAFailedSave: a secret typed into a form that fails to save is
// kept on the server under a one-time token bound to the session, never sent back; the
// next submit with the input blank uses it; required inputs are marked.
func TestTypedSecretsSurviveAFailedSave(t *testing.T) {
	c := newTestConsole(t)
	b := c.login("admin", adminPassword)
	_, page := b.get("/registries/new?type=ghcr")
	for _, id := range []string{"f-name", "f-username", "f-token"} {
		if !regexp.MustCompile(`id="` + id + `"[^>]* required`).MatchString(page) {
			t.Errorf("the input %s is not marked required", id)
		}
	}
	b.get("/registries/new?type=custom")
	const typed = "typed-secret-kept-41"
	status, page := b.post("/registries/new", url.Values{"action": {"save"}, "type": {"custom"}, "name": {""}, "url": {"registry.example.com"}, "username": {"deploy"}, "password": {typed}})
	if status != http.StatusUnprocessableEntity || strings.Contains(page, typed) || !strings.Contains(page, "Kept from your last try") {
		t.Fatalf("failed save: %d, secret sent back %v, kept said %v", status, strings.Contains(page, typed), strings.Contains(page, "Kept from your last try"))
	}
	token := regexp.MustCompile(`name="draft" value="([^"]+)"`).FindStringSubmatch(page)
	if token == nil {
		t.Fatal("no draft token in the form")
	}
	// Another session cannot use the token.
	other := c.login("admin", adminPassword)
	other.get("/registries/new")
	if status, _ := other.post("/registries/new", url.Values{"action": {"save"}, "draft": {token[1]}, "type": {"custom"}, "name": {"stolen"}, "url": {"registry.example.com"}, "username": {"deploy"}}); status != http.StatusUnprocessableEntity {
		t.Errorf("another session's submit with the token: %d, want 422 (no password)", status)
	}
	status, page = b.post("/registries/new", url.Values{"action": {"save"}, "draft": {token[1]}, "type": {"custom"}, "name": {"kept"}, "url": {"registry.example.com"}, "username": {"deploy"}})
	if status != 200 || !strings.Contains(page, "Registry saved") {
		t.Fatalf("second submit with the password blank: %d\n%v", status, regexp.MustCompile(`(?s)<p class="field-error"[^>]*>.*?</p>`).FindAllString(page, -1))
	}
	all, _ := c.app.cat.List(asAdmin())
	if len(all) != 1 {
		t.Fatalf("%d records", len(all))
	}
	if full, _ := c.app.cat.Reveal(asAdmin(), all[0].ID); full.Fields["password"] != typed {
		t.Error("the saved password is not the one typed before the failed save")
	}
	// The token is spent.
	if status, _ := b.post("/registries/new", url.Values{"action": {"save"}, "draft": {token[1]}, "type": {"custom"}, "name": {"again"}, "url": {"registry.example.com"}, "username": {"deploy"}}); status != http.StatusUnprocessableEntity {
		t.Errorf("a spent token: %d, want 422", status)
	}
}
