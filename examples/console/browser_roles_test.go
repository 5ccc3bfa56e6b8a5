package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/regcred/regcred/internal/testenv"
)

// contrastJS lists every visible text whose contrast with its background (the first
// opaque background up the tree, translucent ones blended) is below WCAG AA: 4.5:1, or 3:1
// for large text (24 px, or 18.66 px bold). It returns {"min": ratio, "bad": [...]}.
const contrastJS = `(() => {
  const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const blend = (c, under) => ({r: c.r*c.a + under.r*(1-c.a), g: c.g*c.a + under.g*(1-c.a), b: c.b*c.a + under.b*(1-c.a)});
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); };
    return 0.2126*f(c.r) + 0.7152*f(c.g) + 0.0722*f(c.b); };
  const background = el => { const layers = [];
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; } }
    let out = {r: 255, g: 255, b: 255};
    for (let i = layers.length - 1; i >= 0; i--) out = blend(layers[i], out);
    return out; };
  const bad = []; let min = 21; const seen = new Set();
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const n = walk.currentNode, el = n.parentElement;
    if (!n.textContent.trim() || seen.has(el)) continue;
    seen.add(el);
    const box = el.getBoundingClientRect(), cs = getComputedStyle(el);
    if (box.width < 2 || box.height < 2 || cs.visibility === "hidden") continue;
    const bg = background(el), fg = blend(parse(cs.color), bg);
    const l1 = lum(fg), l2 = lum(bg), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(cs.fontSize), large = size >= 24 || (parseInt(cs.fontWeight) >= 700 && size >= 18.66);
    min = Math.min(min, ratio);
    if (ratio < (large ? 3 : 4.5)) bad.push(el.tagName.toLowerCase() + "." + el.className + " " + JSON.stringify(n.textContent.trim().slice(0, 40)) + " " + ratio.toFixed(2));
  }
  return JSON.stringify({min: min, bad: bad});
})()`

// TestBrowserRolesAtEveryWidth walks the console as each role (admin, a registry's owner,
// a member of its team) at 1280 px and at 390 px: log in from the keyboard, see only the
// actions the policy allows, open a registry from the keyboard, and on every page no
// horizontal scrolling, every input labelled and every text at 4.5:1 contrast or more.
func TestBrowserRolesAtEveryWidth(t *testing.T) {
	testenv.Chromium(t)
	c := newTestConsole(t)
	ctx := context.Background()
	for _, u := range []user{{Name: "bob", Role: roleUser, Creator: "admin"}, {Name: "carol", Role: roleUser, Teams: []string{"payments"}, Creator: "admin"}} {
		if err := c.st.accounts.createUser(ctx, u, u.Name+"-password-123", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]string{}
	for _, body := range []map[string]any{
		{"name": "Shared registry with a long name that a phone must wrap", "type": "Custom", "url": "registry.internal.example.com:5000/some/long/path",
			"credentials": map[string]string{"username": "deploy", "password": "shared-pass-1"}},
		{"name": "Payments", "type": "GHCR", "credentials": map[string]string{"username": "payments-bot", "token": "ghp_payments"}, "scope": map[string]any{"teams": []string{"payments"}}},
	} {
		status, _, b := c.api("bob", "bob-password-123", "POST", "/api/v1/registries", body)
		var rec apiRegistry
		json.Unmarshal(b, &rec)
		if status != 201 {
			t.Fatalf("bob saves %v: %d %s", body["name"], status, b)
		}
		ids[rec.Name] = rec.ID
	}
	shared := ids["Shared registry with a long name that a phone must wrap"]

	roles := []struct {
		name, password              string
		deletes, setsDefault, edits bool
	}{
		{"admin", adminPassword, true, true, true},
		{"bob", "bob-password-123", true, false, true},
		{"carol", "carol-password-123", false, false, false},
	}
	for _, role := range roles {
		for _, width := range []int64{1280, 390} {
			t.Run(fmt.Sprintf("%s-%d", role.name, width), func(t *testing.T) {
				b := startBrowser(t, c.srv.URL)
				u := func(p string) string { return c.srv.URL + p }
				b.do("viewport", chromedp.EmulateViewport(width, 900))
				b.do("login page", chromedp.Navigate(u("/login")), chromedp.WaitVisible(chromedp.CSS("#username")))
				b.do("log in", chromedp.KeyEvent(role.name), chromedp.KeyEvent("\t"), chromedp.KeyEvent(role.password), chromedp.KeyEvent("\r"),
					chromedp.WaitVisible(chromedp.CSS("table.registries")))
				row := fmt.Sprintf(`tr[data-id=%q]`, shared)
				offered := func(sel string) bool {
					return b.eval(fmt.Sprintf(`document.querySelector('%s %s') ? "yes" : ""`, row, sel)) == "yes"
				}
				if got := offered(`a[href$="/delete"]`); got != role.deletes {
					t.Errorf("Delete offered %v, the policy says %v", got, role.deletes)
				}
				other := fmt.Sprintf(`tr[data-id=%q] button[formaction$="/default"]`, ids["Payments"]) // the shared one is the default already
				if got := b.eval(fmt.Sprintf(`document.querySelector('%s') ? "yes" : ""`, other)) == "yes"; got != role.setsDefault {
					t.Errorf("Set default offered %v, the policy says %v", got, role.setsDefault)
				}
				if got := offered(`a[aria-label^="Edit or rotate"]`); got != role.edits {
					t.Errorf("Edit offered %v, the policy says %v", got, role.edits)
				}
				if !offered(`button[formaction$="/test"]`) {
					t.Error("Test is not offered")
				}
				// Keyboard only: Tab to the registry's link and open it with Enter.
				link := fmt.Sprintf(`%s td a[href$="/edit"]`, row)
				reached := false
				for range 80 {
					b.do("tab", chromedp.KeyEvent("\t"))
					if b.eval(fmt.Sprintf(`document.activeElement === document.querySelector('%s') ? "yes" : ""`, link)) == "yes" {
						reached = true
						break
					}
				}
				if !reached {
					t.Fatal("Tab never reached the registry's link")
				}
				b.do("open with Enter", chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS("#registry-id")))
				if got := b.eval(`document.getElementById("registry-id").textContent`); got != shared {
					t.Errorf("the edit page shows the ID %q", got)
				}
				if got := b.eval(`document.getElementById("save") ? "yes" : ""`) == "yes"; got != role.edits {
					t.Errorf("Save offered %v, the policy says %v", got, role.edits)
				}
				pages := []string{"/registries", "/registries/" + shared + "/edit", "/registries/" + shared + "/delete", "/registries/new?type=ecr", "/audit", "/users", "/deployments", "/clusters"}
				if !role.deletes {
					pages = slicesDelete(pages, "/registries/"+shared+"/delete")
				}
				for _, p := range pages {
					b.do(p, chromedp.Navigate(u(p)), chromedp.WaitVisible(chromedp.CSS("main h1")))
					b.snapshot(p)
					if over := b.eval(`String(document.documentElement.scrollWidth - document.documentElement.clientWidth)`); over != "0" && !strings.HasPrefix(over, "-") {
						t.Errorf("%s at %d px scrolls sideways by %s px", p, width, over)
					}
					// Nothing sticks out past the window's right edge (clipped content does not
					// widen scrollWidth).
					if out := b.eval(`Array.from(document.querySelectorAll("body *")).filter(e => { const r = e.getBoundingClientRect();
						return r.width > 0 && r.right > document.documentElement.clientWidth + 0.5 && !e.closest("thead") && getComputedStyle(e).position !== "absolute"; })
						.slice(0, 5).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right)).join(", ")`); out != "" {
						t.Errorf("%s at %d px: past the right edge (%s px wide): %s", p, width, b.eval(`String(document.documentElement.clientWidth)`), out)
					}
					var res struct {
						Min float64
						Bad []string
					}
					json.Unmarshal([]byte(b.eval(contrastJS)), &res)
					if len(res.Bad) > 0 || res.Min < 4.5 && res.Min > 0 {
						t.Errorf("%s: text below 4.5:1 (lowest %.2f): %v", p, res.Min, res.Bad)
					}
					if role.name == "admin" {
						name := strings.Trim(strings.NewReplacer("/", "-", "?", "-", "=", "-", shared, "registry").Replace(p), "-")
						b.screenshot(fmt.Sprintf("%s-%d", name, width))
					}
				}
				for step, names := range b.unlabeled {
					t.Errorf("%s: inputs without a label: %v", step, names)
				}
			})
		}
	}
}

func slicesDelete(s []string, v string) []string {
	out := s[:0:0]
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}
