package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
)

var update = flag.Bool("update", false, "write screenshots of the main pages to testdata/screenshots")

// captured is one response the browser received, read at the DevTools Fetch domain's
// response stage, before the page got it.
type captured struct {
	url    string
	status int64
	body   string
}

// browserSession drives one headless Chromium tab against the console.
type browserSession struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu        sync.Mutex
	responses []captured
	capErrs   []string
	console   []string          // browser log entries and script exceptions
	doms      map[string]string // step -> the page's HTML and input values at that step
	unlabeled map[string][]string
}

func startBrowser(t *testing.T, base string) *browserSession {
	t.Helper()
	bin := testenv.Chromium(t)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(bin), chromedp.WindowSize(1280, 900)}
	for _, f := range testenv.ChromiumFlags(t.TempDir()) {
		if f[1] == "" {
			opts = append(opts, chromedp.Flag(f[0], true))
		} else {
			opts = append(opts, chromedp.Flag(f[0], f[1]))
		}
	}
	// The whole browser session is bounded: a hung page fails the test, never the suite.
	parent, cancelAll := context.WithTimeout(context.Background(), 90*time.Second)
	actx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc(); cancelAll() })
	b := &browserSession{t: t, ctx: ctx, base: base, doms: map[string]string{}, unlabeled: map[string][]string{}}

	events := chromedp.Events(ctx, fetch.RequestPaused) // starts the browser
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev, err := range events {
			if err != nil {
				return
			}
			c := captured{url: ev.Request.URL, status: ev.ResponseStatusCode}
			if ev.ResponseStatusCode < 300 || ev.ResponseStatusCode >= 400 {
				res, err := chromedp.Call(ctx, fetch.GetResponseBody, fetch.GetResponseBodyParams{RequestID: ev.RequestID})
				// A static file the page abandoned by navigating on may be gone before its body
				// is read; those are the console's embedded files, never a secret. Any other
				// unread body fails the test.
				if err != nil && !strings.Contains(ev.Request.URL, "/static/") {
					b.mu.Lock()
					b.capErrs = append(b.capErrs, fmt.Sprintf("%s: %v", ev.Request.URL, err))
					b.mu.Unlock()
				}
				c.body = string(res.Body)
			}
			for _, h := range ev.ResponseHeaders {
				c.body += "\n" + h.Name + ": " + h.Value
			}
			b.mu.Lock()
			b.responses = append(b.responses, c)
			b.mu.Unlock()
			chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
	// What the page's console shows: script errors, CSP violations, failed loads.
	logs := chromedp.Events(ctx, cdplog.EntryAdded)
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	note := func(s string) {
		b.mu.Lock()
		b.console = append(b.console, s)
		b.mu.Unlock()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for ev, err := range logs {
			if err != nil {
				return
			}
			note(fmt.Sprintf("%s %s: %s (%s)", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			note("exception: " + ev.ExceptionDetails.Text)
		}
	}()
	t.Cleanup(func() { cancelTab(); wg.Wait() })
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("start chromium (%s): %v", bin, err)
	}
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*", RequestStage: fetch.RequestStageResponse}}}); err != nil {
		t.Fatalf("start chromium (%s): %v", bin, err)
	}
	return b
}

// do runs actions; a failure fails the test with the page's text for context.
func (b *browserSession) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		b.t.Fatalf("%s: %v\npage:\n%s", step, err, limitText(text, 3000))
	}
}

func (b *browserSession) eval(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// snapshot keeps the page as the browser has it at step: its HTML, and the value of
// every input (which the HTML does not show) unless the user typed into the form, and
// notes inputs without a label.
func (b *browserSession) snapshot(step string) { b.snap(step, true) }

// snapshotTyped is snapshot for a form holding what the user typed (its secrets
// included): the HTML only.
func (b *browserSession) snapshotTyped(step string) { b.snap(step, false) }

func (b *browserSession) snap(step string, values bool) {
	b.t.Helper()
	js := `document.documentElement.outerHTML`
	if values {
		js += ` + "\n" + Array.from(document.querySelectorAll("input,textarea,select")).map(e => e.name + "=" + e.value).join("\n")`
	}
	b.doms[step] = b.eval(js)
	var missing []string
	json.Unmarshal([]byte(b.eval(`JSON.stringify(Array.from(document.querySelectorAll("input,select,textarea"))
		.filter(e => e.type !== "hidden" && !(e.labels && e.labels.length) && !e.getAttribute("aria-label"))
		.map(e => e.name || e.id || e.outerHTML))`)), &missing)
	if len(missing) > 0 {
		b.unlabeled[step] = missing
	}
}

func (b *browserSession) screenshot(name string) {
	b.t.Helper()
	if !*update {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	dir := filepath.Join("testdata", "screenshots")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// serviceAccountKeyJSON is a Google service account key file with a fresh private key.
func serviceAccountKeyJSON(t *testing.T) (keyFile, privateKeyPEM string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	privateKeyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	b, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "console-test", "private_key_id": "0123abcd",
		"private_key": privateKeyPEM, "client_email": "puller@console-test.iam.gserviceaccount.com", "client_id": "1234567890"})
	return string(b), privateKeyPEM
}

// TestBrowser drives the console in headless Chromium as a user would: log in from the
// keyboard, add a registry of every type through its form, see each field's error, test a
// real docker-registry with a wrong and the right password, save, set the default, be
// refused a delete while a deployment uses the registry, rotate the password and test
// again. Every response the browser received and every page it showed is checked for
// every secret typed into a form; every input must have a label.
func TestBrowser(t *testing.T) {
	testenv.Chromium(t) // skip loudly before starting anything
	const regUser, regPass = "ci-user", "Right-Registry-Pass-1"
	reg := testenv.StartRegistry(t, testenv.WithBasicAuth(regUser, regPass))
	c := newTestConsole(t, withTestOptions(conntest.WithTimeout(10*time.Second)))
	b := startBrowser(t, c.srv.URL)
	u := func(p string) string { return c.srv.URL + p }

	saKey, saPEM := serviceAccountKeyJSON(t)
	pemBody := strings.Split(saPEM, "\n")[1] // a line of the key's base64
	const wrongPass, rotatedWrong, keptPass = "Wrong-Registry-Pass-9", "Rotated-Wrong-Pass-7", "Kept-Typed-Pass-3"
	secrets := []string{"UrlSecretPass8", keptPass, regPass, wrongPass, rotatedWrong, adminPassword, "dckr_pat_SECRETdockerhub1", "ghp_SECRETghcr2", "quaySECRETrobot3",
		"harborSECRETrobot4", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET5KEY", "acrSECRETpassword6", saKey, pemBody}

	// Log in with the keyboard only: the name field has the focus, Tab, Enter.
	b.do("login page", chromedp.Navigate(u("/login")), chromedp.WaitVisible(chromedp.CSS("#username")))
	b.snapshot("login")
	if got := b.eval(`document.activeElement.id`); got != "username" {
		t.Errorf("login page focus on %q, want the username", got)
	}
	b.do("type the name", chromedp.KeyEvent("admin"), chromedp.KeyEvent("\t"))
	if got := b.eval(`document.activeElement.id`); got != "password" {
		t.Errorf("Tab from the username went to %q", got)
	}
	b.do("log in", chromedp.KeyEvent(adminPassword), chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS("#add-registry")))
	b.snapshot("empty list")

	// Bad input: the browser stops a form missing a required input first; the server
	// puts every problem under its own input (Enter in a field saves), and a password
	// typed before the failed save is kept on the server, never sent back.
	b.do("bad custom form", chromedp.Navigate(u("/registries/new?type=custom")), chromedp.WaitVisible(chromedp.CSS("#f-url")),
		chromedp.SendKeys(chromedp.CSS("#f-url"), "https://deploy:UrlSecretPass8@registry.example.com"),
		chromedp.SendKeys(chromedp.CSS("#f-username"), "deploy"),
		chromedp.SendKeys(chromedp.CSS("#f-password"), keptPass),
		chromedp.Focus(chromedp.CSS("#f-url")), chromedp.KeyEvent("\r"))
	if missing := b.eval(`String(document.getElementById("f-name").validity.valueMissing) + " " + location.pathname + " " + document.querySelectorAll(".field-error").length`); missing != "true /registries/new 0" {
		t.Errorf("the browser did not stop the form without a name (valueMissing, path, server errors): %s", missing)
	}
	b.do("server errors", chromedp.Evaluate[chromedp.Void](`document.getElementById("registry-form").noValidate = true`),
		chromedp.Focus(chromedp.CSS("#f-url")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(".field-error")))
	b.snapshot("field errors")
	b.screenshot("form-errors")
	for _, field := range []string{"name", "url"} {
		msg := b.eval(fmt.Sprintf(`(document.querySelector('[data-field=%q] .field-error') || {}).textContent || ""`, field))
		if strings.TrimSpace(msg) == "" {
			t.Errorf("no error under the %s input", field)
		}
		if inv := b.eval(fmt.Sprintf(`document.getElementById(%q).getAttribute("aria-invalid") || ""`, inputID(field))); inv != "true" {
			t.Errorf("%s input: aria-invalid %q", field, inv)
		}
	}
	if v := b.eval(`document.getElementById("f-username").value`); v != "deploy" {
		t.Errorf("the form lost the username after the errors: %q", v)
	}
	if v := b.eval(`document.getElementById("f-password").value + "|" + document.getElementById("f-password").placeholder`); v != "|kept: leave blank to keep" {
		t.Errorf("the typed password after the failed save (value|placeholder): %q", v)
	}
	b.do("fix and save", chromedp.SendKeys(chromedp.CSS("#f-name"), "Kept custom"),
		chromedp.SetValue(chromedp.CSS("#f-url"), "registry.example.com"),
		chromedp.Click(chromedp.CSS("#save")), chromedp.WaitVisible(chromedp.CSS(`tr[data-name="Kept custom"]`)))
	keptID := b.eval(`document.querySelector('tr[data-name="Kept custom"]').dataset.id`)
	if full, err := c.app.cat.Reveal(asAdmin(), keptID); err != nil || full.Fields["password"] != keptPass {
		t.Errorf("the password typed before the failed save was not saved (%v)", err)
	}

	// One registry of each type through its form. The first changes the type with the
	// select, which re-renders the form with that type's inputs.
	type input struct{ sel, value string }
	kinds := []struct {
		kind   registry.Kind
		name   string
		inputs []input
	}{
		{registry.KindGHCR, "My GHCR", []input{{"#f-username", "my-github-user"}, {"#f-token", "ghp_SECRETghcr2"}}},
		{registry.KindDockerHub, "Docker Hub", []input{{"#f-username", "myuser"}, {"#f-password", "dckr_pat_SECRETdockerhub1"}}},
		{registry.KindQuay, "Quay robot", []input{{"#f-username", "myorg+puller"}, {"#f-token", "quaySECRETrobot3"}}},
		{registry.KindHarbor, "Harbor", []input{{"#f-url", "harbor.example.com"}, {"#f-username", "robot$library+puller"}, {"#f-password", "harborSECRETrobot4"}}},
		{registry.KindPublic, "Public images", nil},
		{registry.KindECR, "Production ECR", []input{{"#f-region", "us-east-1"}, {"#f-accessKeyId", "AKIAIOSFODNN7EXAMPLE"}, {"#f-secretAccessKey", "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"}}},
		{registry.KindACR, "Azure", []input{{"#f-loginServer", "myregistry.azurecr.io"}, {"#f-username", "00000000-0000-0000-0000-000000000000"}, {"#f-password", "acrSECRETpassword6"}}},
		{registry.KindGCR, "GCR", []input{{"#f-serviceAccountKey", saKey}}},
		{registry.KindGAR, "Artifact Registry", []input{{"#f-serviceAccountKey", saKey}, {"#f-region", "europe-west1"}}},
		{registry.KindKubernetes, "Payload registry", []input{{"#f-url", "payload-registry.example.com"}, {"#f-serviceAccount", "payload/my-pull-sa"}}},
	}
	for i, k := range kinds {
		if i == 0 {
			b.do("new form", chromedp.Navigate(u("/registries/new")), chromedp.WaitVisible(chromedp.CSS("#f-type")))
			if b.eval(`document.querySelector("button.retype") ? "present" : ""`) != "" {
				t.Error("the script left the type button in the form (Enter would press it)")
			}
			// SetValue fires input and change, as a user's choice does.
			b.do("choose "+string(k.kind), chromedp.SetValue(chromedp.CSS("#f-type"), string(k.kind)),
				chromedp.WaitVisible(chromedp.CSS("#f-token")))
		} else {
			b.do("new "+string(k.kind), chromedp.Navigate(u("/registries/new?type="+string(k.kind))), chromedp.WaitVisible(chromedp.CSS("#f-name")))
		}
		b.snapshot("form " + string(k.kind)) // before typing: labels, and nothing stored in it
		acts := []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS("#f-name"), k.name)}
		for _, in := range k.inputs {
			if strings.HasPrefix(in.value, "{") { // a key file is pasted, not typed
				acts = append(acts, chromedp.SetValue(chromedp.CSS(in.sel), in.value))
			} else {
				acts = append(acts, chromedp.SendKeys(chromedp.CSS(in.sel), in.value))
			}
		}
		acts = append(acts, chromedp.Click(chromedp.CSS("#save")), chromedp.WaitVisible(chromedp.CSS("table.registries")))
		b.do("save "+string(k.kind), acts...)
		if flash := b.eval(`(document.querySelector(".flash") || {}).textContent || ""`); flash != "Registry saved." {
			t.Fatalf("save %s: flash %q\n%s", k.kind, flash, limitText(b.eval(`document.body.innerText`), 2000))
		}
	}
	b.snapshot("all kinds")
	if n := b.eval(`String(document.querySelectorAll("table.registries tbody tr").length)`); n != fmt.Sprint(len(kinds)+1) {
		t.Errorf("table has %s rows, want %d", n, len(kinds)+1)
	}

	// Test Connection before saving, against the real registry: a wrong password fails at
	// the credentials step with a cause and a fix; the right one passes. The test runs from
	// the keyboard (focus the button, Enter).
	b.do("team form", chromedp.Navigate(u("/registries/new?type=custom")), chromedp.WaitVisible(chromedp.CSS("#f-name")),
		chromedp.SendKeys(chromedp.CSS("#f-name"), "Team registry"),
		chromedp.SendKeys(chromedp.CSS("#f-url"), reg.URL),
		chromedp.SendKeys(chromedp.CSS("#f-username"), regUser),
		chromedp.SendKeys(chromedp.CSS("#f-password"), wrongPass),
		chromedp.SetValue(chromedp.CSS("#f-tls-mode"), string(registry.TLSInsecure)),
		chromedp.Focus(chromedp.CSS("#test-connection")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS("#test-report li[data-step]")))
	b.snapshotTyped("test wrong password")
	b.screenshot("test-connection-failed")
	if v := b.eval(`document.querySelector('#test-report li[data-step="auth"]').dataset.verdict`); v != "failed" {
		t.Errorf("wrong password: auth step %q, want failed\n%s", v, b.eval(`document.getElementById("test-report").innerText`))
	}
	if cause := b.eval(`(document.querySelector('#test-report li[data-step="auth"] .cause') || {}).textContent || ""`); !strings.Contains(cause, "Cause") || len(cause) < 15 {
		t.Errorf("the failed step has no cause: %q", cause)
	}
	if fix := b.eval(`(document.querySelector('#test-report li[data-step="auth"] .fix') || {}).textContent || ""`); len(fix) < 10 {
		t.Errorf("the failed step has no fix: %q", fix)
	}
	if named := b.eval(`document.querySelector("#test-report .report-error").textContent`); named != "failed at: credentials accepted" {
		t.Errorf("the report names the failed step as %q", named)
	}
	if v := b.eval(`document.getElementById("f-password").value`); v != wrongPass {
		t.Error("Test Connection lost the typed password (the form must stay as typed)")
	}
	b.do("right password", chromedp.Evaluate[chromedp.Void](`document.getElementById("f-password").value = ""`), chromedp.SendKeys(chromedp.CSS("#f-password"), regPass),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("test-result").textContent = ""`),
		chromedp.Click(chromedp.CSS("#test-connection")), chromedp.WaitVisible(chromedp.CSS("#test-report li[data-step]")))
	b.snapshotTyped("test right password")
	if v := b.eval(`document.querySelector('#test-report li[data-step="auth"]').dataset.verdict`); v != "ok" {
		t.Fatalf("right password: auth step %q\n%s", v, b.eval(`document.getElementById("test-report").innerText`))
	}
	b.do("save team", chromedp.Click(chromedp.CSS("#save")), chromedp.WaitVisible(chromedp.CSS(`tr[data-name="Team registry"]`)))
	teamID := b.eval(`document.querySelector('tr[data-name="Team registry"]').dataset.id`)

	// Set the default.
	b.do("set default", chromedp.Click(chromedp.CSS(`tr[data-name="Team registry"] button[formaction$="/default"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-name="Team registry"] .default .badge`)))
	if n := b.eval(`String(document.querySelectorAll("td.default .badge").length)`); n != "1" {
		t.Errorf("%s registries show as default", n)
	}

	// A deployment uses it: deleting is refused, with the list.
	b.do("deployments", chromedp.Navigate(u("/deployments")), chromedp.WaitVisible(chromedp.CSS("#dep-name")))
	if v := b.eval(`document.getElementById("dep-registry").value`); v != teamID {
		t.Errorf("the deployment picker chose %q, not the default registry %q", v, teamID)
	}
	b.do("add deployment", chromedp.SendKeys(chromedp.CSS("#dep-name"), "web"), chromedp.SendKeys(chromedp.CSS("#dep-image"), reg.Host+"/team/web:v1"),
		chromedp.Click(chromedp.CSS(`#deployment-form button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".flash")))
	b.snapshot("deployments")
	// Delete asks first, saying what the delete affects; the name must be typed back.
	b.do("delete asks", chromedp.Navigate(u("/registries")), chromedp.WaitVisible(chromedp.CSS(`tr[data-name="Team registry"]`)),
		chromedp.Click(chromedp.CSS(`tr[data-name="Team registry"] a[href$="/delete"]`)),
		chromedp.WaitVisible(chromedp.CSS("#delete-affects")))
	b.snapshot("delete confirmation")
	b.screenshot("delete-confirm")
	if affects := b.eval(`document.getElementById("delete-affects").innerText`); !strings.Contains(affects, "Deployments") || !strings.Contains(affects, "web") || !strings.Contains(affects, "default registry") {
		t.Errorf("the confirmation does not say what the delete affects:\n%s", affects)
	}
	b.do("delete in use", chromedp.SendKeys(chromedp.CSS("#confirm"), "Team registry"), chromedp.Click(chromedp.CSS("#confirm-delete")),
		chromedp.WaitVisible(chromedp.CSS("#page-error")))
	b.snapshot("delete refused")
	b.screenshot("delete-refused")
	if refs := b.eval(`Array.from(document.querySelectorAll("#page-error .in-use li")).map(e => e.textContent).join(",")`); refs != "deployment web" {
		t.Errorf("refused delete lists %q, want the deployment", refs)
	}
	if b.eval(`document.querySelector('tr[data-name="Team registry"]') ? "kept" : ""`) != "kept" {
		t.Error("the registry in use is gone")
	}

	// Rotate: the edit form never holds the stored password; blank keeps it (a draft test
	// with the password blank passes); a new password is used by the next test.
	edit := func(step string) {
		b.do(step, chromedp.Navigate(u("/registries/"+teamID+"/edit")), chromedp.WaitVisible(chromedp.CSS("#f-password")))
		b.snapshot(step)
		if v := b.eval(`document.getElementById("f-password").value`); v != "" {
			t.Errorf("%s: the password input holds a value", step)
		}
		if !strings.Contains(b.eval(`document.getElementById("f-password").placeholder`), "leave blank to keep") {
			t.Errorf("%s: no stored-secret hint", step)
		}
	}
	edit("edit")
	b.do("draft test, blank password", chromedp.Click(chromedp.CSS("#test-connection")), chromedp.WaitVisible(chromedp.CSS("#test-report li[data-step]")))
	if v := b.eval(`document.querySelector('#test-report li[data-step="auth"]').dataset.verdict`); v != "ok" {
		t.Errorf("draft test with the password left blank: auth %q (the stored password must be used)", v)
	}
	b.do("rotate to a wrong password", chromedp.SendKeys(chromedp.CSS("#f-password"), rotatedWrong), chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
		chromedp.Click(chromedp.CSS(`tr[data-name="Team registry"] button[formaction$="/test"]`)),
		chromedp.WaitVisible(chromedp.CSS("#test-report li[data-step]")))
	b.snapshot("test after rotation")
	if v := b.eval(`document.querySelector('#test-report li[data-step="auth"]').dataset.verdict`); v != "failed" {
		t.Errorf("after rotating to a wrong password: auth %q, want failed", v)
	}
	if v := b.eval(`document.querySelector('tr[data-name="Team registry"] .health .verdict').textContent`); v != "failed" {
		t.Errorf("health column after the failed test: %q", v)
	}
	edit("edit again")
	b.do("rotate back", chromedp.SendKeys(chromedp.CSS("#f-password"), regPass), chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	// The failed result is from before the rotation: the row says so instead of red "failed".
	if v := b.eval(`document.querySelector('tr[data-name="Team registry"] .health .verdict').className + ": " + document.querySelector('tr[data-name="Team registry"] .health .verdict').textContent`); v != "verdict stale: failed before the last change" {
		t.Errorf("health after rotating back, before a new test: %q", v)
	}
	b.do("test after rotating back", chromedp.Click(chromedp.CSS(`tr[data-name="Team registry"] button[formaction$="/test"]`)),
		chromedp.WaitVisible(chromedp.CSS("#test-report li[data-step]")))
	b.snapshot("test after rotating back")
	// Plain http passes with a warning (the TLS step says so).
	if v := b.eval(`document.querySelector('tr[data-name="Team registry"] .health .verdict').textContent`); v != "ok" && v != "warning" {
		t.Errorf("health after rotating back: %q, want a pass\n%s", v, b.eval(`document.getElementById("test-report").innerText`))
	}
	if v := b.eval(`document.querySelector('#test-report li[data-step="auth"]').dataset.verdict`); v != "ok" {
		t.Errorf("after rotating back: auth %q, want ok", v)
	}
	b.screenshot("registries")
	b.do("audit", chromedp.Navigate(u("/audit")), chromedp.WaitVisible(chromedp.CSS("table.audit")))
	b.snapshot("audit")
	// Each rotation names exactly the password, as rotated, and who did it.
	rotations := b.eval(`Array.from(document.querySelectorAll("table.audit tbody tr")).filter(tr => tr.querySelector(".action").textContent === "registry.rotate")
		.map(tr => tr.querySelector(".actor").textContent + ": " + tr.querySelector(".detail").textContent).join("\n")`)
	if rotations != "admin: changed password (rotated)\nadmin: changed password (rotated)" {
		t.Errorf("the audit log's rotations:\n%s", rotations)
	}
	b.do("users", chromedp.Navigate(u("/users")), chromedp.WaitVisible(chromedp.CSS("#new-username")))
	b.snapshot("users")

	// Nothing the browser received or showed holds a secret.
	cancelCapture := func() { chromedp.Cancel(b.ctx) }
	cancelCapture()
	b.mu.Lock()
	defer b.mu.Unlock()
	pages := 0
	for _, r := range b.responses {
		if strings.Contains(r.body, "text/html") {
			pages++
		}
		for _, s := range secrets {
			if strings.Contains(r.body, s) {
				t.Errorf("the response of %s (%d) holds a secret (%d bytes)", r.url, r.status, len(s))
			}
		}
	}
	if pages < 25 {
		t.Errorf("captured %d HTML responses of %d in all: the capture missed pages", pages, len(b.responses))
	}
	if len(b.capErrs) > 0 {
		t.Errorf("responses whose body could not be read: %v", b.capErrs)
	}
	for step, dom := range b.doms {
		for _, s := range secrets {
			if strings.Contains(dom, s) {
				t.Errorf("page at %q holds a secret", step)
			}
		}
	}
	for step, names := range b.unlabeled {
		t.Errorf("%s: inputs without a label: %v", step, names)
	}
	// The console shows no script error, no CSP violation and no failed load but the
	// answers the steps asked for (422 for the bad form, 409 for the refused delete).
	for _, line := range b.console {
		expected := strings.Contains(line, "responded with a status of 422") || strings.Contains(line, "responded with a status of 409")
		if !expected && (strings.HasPrefix(line, "error") || strings.HasPrefix(line, "warning") || strings.HasPrefix(line, "exception")) {
			t.Errorf("browser console: %s", line)
		} else {
			t.Logf("browser console: %s", line)
		}
	}
	t.Logf("checked %d responses (%d pages) and %d page snapshots for %d secrets", len(b.responses), pages, len(b.doms), len(secrets))
}
