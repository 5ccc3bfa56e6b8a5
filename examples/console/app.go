package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// consumerDeployment is the consumer kind of the console's own deployments (Health
// consumers of other kinds come from the platform's adapters: namespaces, Swarm services).
const consumerDeployment = "deployment"

// app is the console: the pages, the JSON API and what they share.
type app struct {
	cat      *catalog.Catalog
	records  registry.Store // the Catalog's store, for its HealthStore
	acc      *accounts
	log      *slog.Logger
	pages    map[string]*template.Template
	now      func() time.Time
	limiter  *loginLimiter
	testOpts []conntest.Option
	drafts   *drafts            // secrets typed into a form that failed to save
	clusters *clusters          // the clusters and their controllers
	authz    catalog.Authorizer // who may do what: the Catalog enforces it, the pages render it

	secureCookie bool     // behind a TLS-terminating proxy: mark the cookie Secure anyway
	allowedHosts []string // the Host headers served (DNS rebinding); empty: any

	basicMu    sync.Mutex
	basicCache map[string]basicEntry // user -> a recent successful Basic password, hashed
}

type basicEntry struct {
	sum     [32]byte
	expires time.Time
}

type appOption func(*app)

// withTestOptions passes options to every connection test (tests give a timeout).
func withTestOptions(opts ...conntest.Option) appOption {
	return func(a *app) { a.testOpts = append(a.testOpts, opts...) }
}

// withAuthorizer sets the policy (default catalog.DefaultPolicy): the Catalog enforces it
// and the pages offer only what it allows.
func withAuthorizer(z catalog.Authorizer) appOption { return func(a *app) { a.authz = z } }

// withSecureCookie marks the session cookie Secure over plain HTTP too (a TLS-terminating
// proxy in front).
func withSecureCookie() appOption { return func(a *app) { a.secureCookie = true } }

// withAllowedHosts serves only requests whose Host header names one of hosts (any port):
// a page of another site whose name was rebound to the console's address is refused.
func withAllowedHosts(hosts ...string) appOption {
	return func(a *app) { a.allowedHosts = append(a.allowedHosts, hosts...) }
}

func newApp(ctx context.Context, st *storage, log *slog.Logger, opts ...appOption) (*app, error) {
	a := &app{acc: st.accounts, log: log, now: time.Now, limiter: newLoginLimiter(5, 20, 20, 5*time.Minute), basicCache: map[string]basicEntry{},
		authz: catalog.DefaultPolicy(), drafts: newDrafts()}
	for _, o := range opts {
		o(a)
	}
	a.records = st.records
	var err error
	if a.clusters, err = newClusters(ctx, st, log); err != nil {
		return nil, err
	}
	a.cat = catalog.New(st.records,
		catalog.WithProviderFactory(a.clusters.factory), // providers.For, with a cluster's client for Kubernetes tokens
		catalog.WithAuthorizer(a.authz),
		catalog.WithUsage(a.usage))
	if a.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if err := a.clusters.startAll(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// Close stops the clusters' controllers and the Catalog's change feed; the storage is
// closed by its owner.
func (a *app) Close() error { return errors.Join(a.clusters.Close(), a.cat.Close()) }

// usage is the Catalog's delete guard: every consumer recorded in the registry's health
// (the console's deployments, and whatever the platform's adapters report).
func (a *app) usage(ctx context.Context, r registry.Registry) ([]string, error) {
	h, err := a.cat.Health(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	var refs []string
	for _, c := range h.Consumers {
		if !servedByClusters(c) { // the console's controllers prune those
			refs = append(refs, c.Kind+" "+c.Name)
		}
	}
	return refs, nil
}

// ensureAdmin creates the admin user at first start, with password or a generated one
// (returned, to print once). With a password given and the admin present, it sets it.
func (a *app) ensureAdmin(ctx context.Context, password string) (generated string, err error) {
	exists, err := a.acc.hasUser(ctx, adminUser)
	if err != nil {
		return "", err
	}
	if password != "" {
		if err := checkPassword(password); err != nil {
			return "", fmt.Errorf("REGCRED_CONSOLE_PASSWORD %v", err)
		}
	}
	switch {
	case exists && password == "":
		return "", nil
	case exists:
		return "", a.acc.setPassword(ctx, adminUser, password, "")
	case password == "":
		generated = randomToken()[:24]
		password = generated
	}
	if err := a.acc.createUser(ctx, user{Name: adminUser, Role: roleAdmin}, password, a.now()); err != nil && !errors.Is(err, errUserExists) {
		return "", err
	}
	return generated, nil
}

// Handler is the console's HTTP handler: every route, behind the security headers and
// cross-origin protection.
func (a *app) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", noListing(http.FileServerFS(static))))
	mux.HandleFunc("GET /healthz", a.healthz)

	mux.HandleFunc("GET /login", a.loginPage)
	mux.HandleFunc("POST /login", a.login)
	mux.Handle("POST /logout", a.page(a.logout))
	mux.Handle("GET /{$}", http.RedirectHandler("/registries", http.StatusSeeOther))
	mux.Handle("GET /registries", a.page(a.listPage))
	mux.Handle("GET /registries/new", a.page(a.newPage))
	mux.Handle("POST /registries/new", a.page(a.submitNew))
	mux.Handle("GET /registries/{id}/edit", a.page(a.editPage))
	mux.Handle("POST /registries/{id}/edit", a.page(a.submitEdit))
	mux.Handle("POST /registries/{id}/test", a.page(a.testSaved))
	mux.Handle("POST /registries/{id}/default", a.page(a.setDefault))
	mux.Handle("GET /registries/{id}/delete", a.page(a.confirmDelete))
	mux.Handle("POST /registries/{id}/delete", a.page(a.deleteRegistry))
	mux.Handle("GET /deployments", a.page(a.deploymentsPage))
	mux.Handle("POST /deployments", a.page(a.addDeployment))
	mux.Handle("POST /deployments/remove", a.page(a.removeDeployment))
	mux.Handle("GET /users", a.page(a.usersPage))
	mux.Handle("POST /users", a.page(a.createUser))
	mux.Handle("POST /users/{name}", a.page(a.manageUser))
	mux.Handle("POST /account/password", a.page(a.changePassword))
	mux.Handle("GET /audit", a.page(a.auditPage))
	mux.Handle("GET /clusters", a.page(a.clustersPage))
	mux.Handle("POST /clusters", a.page(a.addCluster))
	mux.Handle("POST /clusters/{name}/remove", a.page(a.removeCluster))

	mux.Handle("GET /api/v1/registries", a.api(a.apiList))
	mux.Handle("POST /api/v1/registries", a.api(a.apiCreate))
	mux.Handle("GET /api/v1/registries/{id}", a.api(a.apiGet))
	mux.Handle("PUT /api/v1/registries/{id}", a.api(a.apiPut))
	mux.Handle("DELETE /api/v1/registries/{id}", a.api(a.apiDelete))
	mux.Handle("POST /api/v1/registries/{id}/test", a.api(a.apiTest))
	mux.Handle("POST /api/v1/registries/test", a.api(a.apiTestNew))

	cop := http.NewCrossOriginProtection()
	return securityHeaders(a.checkHost(cop.Handler(mux)))
}

// noListing serves files only: a directory (the static root included) is not found.
func noListing(files http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}

// checkHost refuses a request whose Host is not allowed (withAllowedHosts): a browser
// tricked by DNS rebinding sends the attacker's name, never the console's.
func (a *app) checkHost(next http.Handler) http.Handler {
	if len(a.allowedHosts) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
		if !slices.ContainsFunc(a.allowedHosts, func(h string) bool { return strings.EqualFold(h, host) }) {
			http.Error(w, "this console does not answer to that host name (see --allowed-hosts)", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy allows the console's own script and styles only: no inline
// script, no inline style, no framing, forms posting only to the console.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

func (a *app) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := a.acc.db.PingContext(ctx); err != nil { // the database answers (cheap: no record is opened)
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// csrfToken is the per-session form token: a hash of the session token, which the
// HttpOnly cookie keeps from any other origin's script. Every form carries it.
func csrfToken(session string) string {
	sum := sha256.Sum256([]byte("regcred console csrf\x00" + session))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func validCSRF(session, got string) bool {
	want := csrfToken(session)
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// audit records a change; a failure to record is logged, never shown as the change
// failing (the change is done).
func (a *app) audit(ctx context.Context, actor, action, target, detail string) {
	if err := a.acc.audit(ctx, auditEntry{At: a.now().UTC(), Actor: actor, Action: action, Target: target, Detail: detail}); err != nil {
		a.log.Error("audit log write failed", "action", action, "err", err)
	}
}

// testOptions are the connection test's options, with image to check when not empty.
func (a *app) testOptions(image string) []conntest.Option {
	opts := slices.Clone(a.testOpts)
	if image = strings.TrimSpace(image); image != "" {
		opts = append(opts, conntest.WithImage(image))
	}
	return opts
}

// fieldErrors collects every *FieldError in err's tree, in order, once each (in one pass:
// a hostile body's 80,000 problems cost milliseconds, not a quadratic minute).
func fieldErrors(err error) []*registry.FieldError {
	var out []*registry.FieldError
	seen := map[registry.FieldError]bool{}
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if fe, ok := e.(*registry.FieldError); ok {
			if !seen[*fe] {
				seen[*fe] = true
				out = append(out, fe)
			}
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}
