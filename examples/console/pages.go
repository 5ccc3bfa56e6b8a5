package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
	"github.com/regcred/regcred/registry/keychain"
)

// pageData is what every page template gets.
type pageData struct {
	Title    string
	User     user
	CSRF     string
	Error    string
	Flash    string
	InUse    []string
	Username string // the login form's name, kept after a failure

	Rows        []rowView
	Table       template.HTML // the rows of Rows (tableRows)
	Form        *formView
	Report      *reportView
	Users       []user
	Audit       []auditEntry
	Deployments []deploymentView
	Registries  []registry.Registry
	Delete      *deleteView
	Clusters    []cluster
	List        listView
	Warnings    []string // after a save: what the saved record shadows or is shadowed by
	CanAdd      bool
	Policy      *policyView
}

var pageNames = []string{"login", "registries", "form", "users", "audit", "deployments", "report", "delete", "clusters"}

var funcs = template.FuncMap{
	"when":  formatTime,
	"limit": func(s string) string { return limitText(s, 300) },
	"join":  strings.Join,
}

// limitText bounds untrusted text (remote reason phrases, user-typed names) shown on a
// page; html/template escapes it.
func limitText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func parsePages() (map[string]*template.Template, error) {
	base, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		out[name] = t
	}
	return out, nil
}

// renderBuffers are the pages' buffers, reused: a page is rendered whole before it is
// sent, and a new buffer per request would grow to the page's size every time.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render executes a page into a buffer first, so a template error never sends half a page.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, name string, d pageData) {
	d.User = currentUser(r.Context())
	if s := currentSession(r.Context()); s != "" {
		d.CSRF = csrfToken(s)
	}
	buf := renderBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 4<<20 {
			renderBuffers.Put(buf)
		}
	}()
	entry := "layout"
	if name == "report" {
		entry = "report"
	}
	if err := a.pages[name].ExecuteTemplate(buf, entry, d); err != nil {
		a.log.Error("render", "page", name, "err", err)
		http.Error(w, "the page failed to render", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

func (a *app) serverError(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("request failed", "path", r.URL.Path, "err", err)
	http.Error(w, "the console failed: see its log", http.StatusInternalServerError)
}

// rowView is one line of the registries table, every text bounded and formatted here:
// the template only escapes (a function call per cell costs a reflect call per row).
type rowView struct {
	ID, Name, Type, Server, Owner string
	Default                       bool
	Verdict, TestStep, TestCause  string
	TestedAt                      string
	TestStale                     bool // the record changed since
	Expires                       expiryView
	Lifetime                      string // a token kind's token lifetime, before its first token
	Consumers                     []string
	CanTest, CanEdit, CanDefault  bool
	CanDelete                     bool
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// pageSize is how many registries the table shows at once (Harbor and Portainer page
// theirs too): the page's cost follows the rows shown, not the registries saved.
const pageSize = 50

// listView is the table's page: which rows, of how many that match the filter.
type listView struct {
	Query              string
	Page, Pages, Total int
	First, Last        int // 1-based positions of the rows shown
	PrevPage, NextPage int // 0: none
}

// health reads one record's health from the store's HealthStore (the Catalog keeps it
// there), else through the Catalog.
func (a *app) health(ctx context.Context, id string) (registry.Health, error) {
	if hs, ok := a.records.(registry.HealthStore); ok {
		return hs.Health(ctx, id)
	}
	return a.cat.Health(ctx, id)
}

// tokenExpiry asks the Catalog's one provider of a token registry when its current token
// expires (registry.Expirer: no fetch); zero before the first token or when the user may
// not use the registry.
func (a *app) tokenExpiry(ctx context.Context, id string) time.Time {
	p, err := a.cat.Provider(ctx, id)
	if err != nil {
		return time.Time{}
	}
	if e, ok := p.(registry.Expirer); ok {
		return e.ExpiresAt()
	}
	return time.Time{}
}

// listHealth is Catalog.ListHealth without its second pass over the records (the JSON
// API's list has listed them already), from the HealthStore when the store has one.
func (a *app) listHealth(ctx context.Context) (map[string]registry.Health, error) {
	if hs, ok := a.records.(registry.HealthStore); ok {
		return hs.ListHealth(ctx)
	}
	return a.cat.ListHealth(ctx)
}

// rows is one page of the registries the user may list whose name, server or ID holds
// query: health and permissions are read for the rows shown only.
func (a *app) rows(ctx context.Context, query string, page int) ([]rowView, listView, error) {
	all, err := a.cat.List(ctx)
	if err != nil {
		return nil, listView{}, err
	}
	if q := strings.ToLower(strings.TrimSpace(query)); q != "" {
		all = slices.DeleteFunc(all, func(r registry.Registry) bool {
			return !strings.Contains(strings.ToLower(r.Name), q) && !strings.Contains(strings.ToLower(r.Server), q) && !strings.Contains(r.ID, q)
		})
	}
	lv := listView{Query: limitText(query, 100), Total: len(all), Pages: max(1, (len(all)+pageSize-1)/pageSize)}
	lv.Page = min(max(page, 1), lv.Pages)
	from, to := (lv.Page-1)*pageSize, min(lv.Page*pageSize, len(all))
	lv.First, lv.Last = from+1, to
	if lv.Page > 1 {
		lv.PrevPage = lv.Page - 1
	}
	if lv.Page < lv.Pages {
		lv.NextPage = lv.Page + 1
	}
	out := make([]rowView, 0, to-from)
	for _, r := range all[from:to] {
		row := rowView{ID: r.ID, Name: limitText(r.Name, 200), Type: r.Kind.Label(), Server: limitText(r.Server, 300), Owner: r.Owner, Default: r.Default,
			CanTest: a.can(ctx, catalog.ActionTest, r), CanEdit: a.can(ctx, catalog.ActionEdit, r) || a.can(ctx, catalog.ActionRotate, r),
			CanDefault: a.can(ctx, catalog.ActionSetDefault, r), CanDelete: a.can(ctx, catalog.ActionDelete, r)}
		if row.Server == "" {
			row.Server = r.Kind.DefaultServer(r.Fields)
		}
		h, err := a.health(ctx, r.ID)
		if err != nil && !errors.Is(err, registry.ErrNotFound) {
			return nil, listView{}, err
		}
		if t := h.Test; t != nil {
			row.Verdict, row.TestStep, row.TestCause, row.TestedAt = string(t.Verdict), t.Step.Title(), limitText(t.Cause, 300), formatTime(t.At)
			row.TestStale = t.Version != r.Version
			if t.Step == "" {
				row.TestStep = ""
			}
		}
		now := a.now()
		switch {
		case r.Kind.Expiring() && !a.tokenExpiry(ctx, r.ID).IsZero():
			row.Expires = expiry(a.tokenExpiry(ctx, r.ID), now, true)
		case h.Token != nil && !h.Token.ExpiresAt.IsZero(): // recorded by the Catalog's provider
			row.Expires = expiry(h.Token.ExpiresAt, now, true)
		case !h.CredentialsExpire.IsZero():
			row.Expires = expiry(h.CredentialsExpire, now, false)
		default:
			row.Expires = expiry(r.CredentialsExpire, now, false) // the HealthStore does not keep it
		}
		row.Lifetime = tokenLifetime(r)
		for _, c := range h.Consumers {
			row.Consumers = append(row.Consumers, limitText(c.Kind+" "+c.Name, 200))
		}
		out = append(out, row)
	}
	return out, lv, nil
}

var flashes = map[string]string{
	"added":     "Registry saved.",
	"saved":     "Changes saved.",
	"default":   "Default registry set.",
	"deleted":   "Registry deleted.",
	"user":      "User created.",
	"disable":   "User disabled: their sessions ended.",
	"enable":    "User enabled.",
	"remove":    "User removed: their sessions ended.",
	"cluster":   "Cluster added: its controller runs.",
	"uncluster": "Cluster removed: its controller stopped (its Secrets stay).",
	"password":  "Password changed: your other sessions ended.",
	"attached":  "Deployment saved.",
	"removed":   "Deployment removed.",
}

func (a *app) listPage(w http.ResponseWriter, r *http.Request) {
	d := pageData{Flash: flashes[r.URL.Query().Get("done")]}
	if id := r.URL.Query().Get("saved"); id != "" {
		d.Warnings = a.shadowWarnings(r.Context(), id)
	}
	a.renderList(w, r, http.StatusOK, d)
}

// shadowWarnings says, for the record just saved, which records a pull passes over
// because of it or in its place (keychain.Shadows: a Public docker.io entry beside the
// Docker Hub credentials, a path under another record's host).
func (a *app) shadowWarnings(ctx context.Context, id string) []string {
	all, err := a.cat.List(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range keychain.Shadows(all) {
		if s.Shadowed == id || s.By == id {
			out = append(out, limitText(s.Reason, 400))
		}
	}
	return out
}

func (a *app) renderList(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	rows, lv, err := a.rows(r.Context(), r.URL.Query().Get("q"), page)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	d.Title, d.Rows, d.Table, d.List = "Container registries", rows, tableRows(rows), lv
	d.CanAdd = a.can(r.Context(), catalog.ActionAdd, registry.Registry{})
	a.render(w, r, status, "registries", d)
}

func (a *app) newPage(w http.ResponseWriter, r *http.Request) {
	kind, _ := registry.ParseKind(r.URL.Query().Get("type"))
	f := buildForm(kind, nil, nil, nil)
	f.Action = "/registries/new"
	a.render(w, r, http.StatusOK, "form", pageData{Title: "Add a registry", Form: f})
}

func (a *app) editPage(w http.ResponseWriter, r *http.Request) {
	cur, err := a.cat.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.catalogError(w, r, err)
		return
	}
	a.renderEdit(w, r, http.StatusOK, cur, cur.FormValues(), nil, nil)
}

func (a *app) renderEdit(w http.ResponseWriter, r *http.Request, status int, cur registry.Registry, values map[string]string, err error, rep *reportView) {
	kind := cur.Kind
	if k, e := registry.ParseKind(values["type"]); e == nil {
		kind = k
	}
	stored := storedSecrets(cur)
	if kind != cur.Kind {
		stored = nil // another kind's secrets do not carry over
	}
	f := buildForm(kind, values, stored, err)
	f.Action, f.Editing, f.ID, f.Version, f.Report = "/registries/"+cur.ID+"/edit", true, cur.ID, cur.Version, rep
	f.ReadOnly = !a.can(r.Context(), catalog.ActionEdit, cur) && !a.can(r.Context(), catalog.ActionRotate, cur)
	a.renderFailed(w, r, status, "Edit "+cur.Name, f, kind, values)
}

// postedKind is the kind a posted form is for ("type"), or fallback.
func postedKind(r *http.Request, fallback registry.Kind) registry.Kind {
	if k, err := registry.ParseKind(r.PostFormValue("type")); err == nil {
		return k
	}
	return fallback
}

// wantsFragment: the page's script asked for the test report alone (Test Connection
// without reloading the form, so the typed secrets stay in the browser and never travel
// back).
func wantsFragment(r *http.Request) bool { return r.Header.Get("X-Console-Fragment") == "report" }

// postedValues reads a posted registry form, its blank secret inputs filled from the
// secrets kept for it (the form's one-time draft token).
func (a *app) postedValues(r *http.Request, kind registry.Kind) map[string]string {
	values := formValues(kind, r.PostFormValue)
	if values["tls.caBundle"] == "" { // the CA uploaded as a file (the page's script pastes it; without script it is posted)
		if f, _, err := r.FormFile("tls.caFile"); err == nil {
			b, _ := io.ReadAll(io.LimitReader(f, 256<<10))
			f.Close()
			if s := strings.TrimSpace(string(b)); s != "" {
				values["tls.caBundle"] = s
			}
		}
	}
	kept := a.drafts.take(r.PostFormValue("draft"), currentSession(r.Context()), string(kind), a.now())
	return withKept(values, kept)
}

// renderFailed renders a form that failed to save: the typed secrets are kept server-side
// under a new one-time token, never sent back.
func (a *app) renderFailed(w http.ResponseWriter, r *http.Request, status int, title string, f *formView, kind registry.Kind, values map[string]string) {
	f.Draft = a.drafts.keep(currentSession(r.Context()), string(kind), typedSecrets(kind, values), a.now())
	a.render(w, r, status, "form", pageData{Title: title, Form: f})
}

func (a *app) submitNew(w http.ResponseWriter, r *http.Request) {
	kind := postedKind(r, registry.KindDockerHub)
	values := a.postedValues(r, kind)
	me := currentUser(r.Context()).Name
	switch r.PostFormValue("action") {
	case "retype":
		f := buildForm(kind, keepCommon(kind, values), nil, nil)
		f.Action = "/registries/new"
		a.render(w, r, http.StatusOK, "form", pageData{Title: "Add a registry", Form: f})
		return
	case "test":
		draft, err := registry.FromForm(values)
		var rep *reportView
		if err == nil {
			var res *conntest.Report
			res, err = a.cat.TestDraft(r.Context(), draft, catalog.WithTestOptions(a.testOptions(r.PostFormValue("image"))...))
			if err == nil {
				rep = newReportView(res)
			}
		}
		a.renderTest(w, r, "/registries/new", kind, values, nil, err, rep, registry.Registry{})
		return
	}
	draft, err := registry.FromForm(values)
	if err == nil {
		draft.Owner = me
		var saved registry.Registry
		saved, err = a.cat.Add(r.Context(), draft)
		if err == nil {
			http.Redirect(w, r, "/registries?done=added&saved="+url.QueryEscape(saved.ID), http.StatusSeeOther)
			return
		}
	}
	status := http.StatusUnprocessableEntity
	if errors.Is(err, registry.ErrForbidden) {
		status, err = http.StatusForbidden, errors.New(forbiddenText(err))
	}
	f := buildForm(kind, values, nil, err)
	f.Action = "/registries/new"
	a.renderFailed(w, r, status, "Add a registry", f, kind, values)
}

// keepCommon keeps, when the type changes to kind, the values of the inputs that are not
// credentials and that kind also has (name, URL, TLS, scope, mirror): credentials belong
// to one kind, and a secret never goes back to the browser anyway.
func keepCommon(kind registry.Kind, values map[string]string) map[string]string {
	out := map[string]string{}
	for _, fd := range kind.Schema().Fields {
		if v, ok := values[fd.Name]; ok && fd.Group != registry.GroupCredentials && !fd.Secret {
			out[fd.Name] = v
		}
	}
	return out
}

// renderTest answers Test Connection: the report alone for the script, else the whole
// form again with the report (without the typed secrets: the form never sends one back).
func (a *app) renderTest(w http.ResponseWriter, r *http.Request, action string, kind registry.Kind, values map[string]string, stored map[string]bool, err error, rep *reportView, cur registry.Registry) {
	if rep == nil && err != nil {
		rep = &reportView{Error: "The form has problems: " + limitText(strings.Join(problemTexts(err), "; "), 1000)}
	}
	if wantsFragment(r) {
		a.render(w, r, http.StatusOK, "report", pageData{Report: rep})
		return
	}
	f := buildForm(kind, values, stored, err)
	f.Action, f.Report, f.Image = action, rep, limitText(r.PostFormValue("image"), 300)
	if cur.ID != "" {
		f.Editing, f.ID, f.Version = true, cur.ID, cur.Version
	}
	a.render(w, r, http.StatusOK, "form", pageData{Title: "Test connection", Form: f})
}

func problemTexts(err error) []string {
	var out []string
	for _, p := range fieldErrors(err) {
		out = append(out, p.Field+" "+problemText(p))
	}
	if len(out) == 0 {
		out = append(out, err.Error())
	}
	return out
}

func (a *app) submitEdit(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	cur, err := a.cat.Get(r.Context(), id)
	if err != nil {
		a.catalogError(w, r, err)
		return
	}
	kind := postedKind(r, cur.Kind)
	values := a.postedValues(r, kind)
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	switch r.PostFormValue("action") {
	case "retype":
		a.renderEdit(w, r, http.StatusOK, cur, keepCommon(kind, values), nil, nil)
		return
	case "test":
		draft, err := registry.FromForm(values)
		var rep *reportView
		if err == nil {
			draft.ID = id
			var res *conntest.Report
			res, err = a.cat.TestDraft(r.Context(), draft, catalog.WithTestOptions(a.testOptions(r.PostFormValue("image"))...))
			if err == nil {
				rep = newReportView(res)
			}
		}
		stored := storedSecrets(cur)
		if kind != cur.Kind {
			stored = nil
		}
		a.renderTest(w, r, "/registries/"+id+"/edit", kind, values, stored, err, rep, cur)
		return
	}
	edit, err := registry.FromForm(values)
	if err == nil {
		edit.ID, edit.Version = id, version
		var opts []registry.MergeOption
		if values["default"] == "" && cur.Default {
			opts = append(opts, registry.UnsetDefault())
		}
		_, err = a.cat.Update(r.Context(), edit, opts...)
		if err == nil {
			http.Redirect(w, r, "/registries?done=saved&saved="+url.QueryEscape(id), http.StatusSeeOther)
			return
		}
	}
	status := http.StatusUnprocessableEntity
	if errors.Is(err, registry.ErrForbidden) {
		status, err = http.StatusForbidden, errors.New(forbiddenText(err))
	}
	if errors.Is(err, registry.ErrConflict) {
		status = http.StatusConflict
		err = errors.New("someone changed this registry while you edited it: reload the page and make your change again")
	}
	a.renderEdit(w, r, status, cur, values, err, nil)
}

func (a *app) testSaved(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rep, err := a.cat.Test(r.Context(), id, a.testOpts...)
	if err != nil {
		a.catalogError(w, r, err)
		return
	}
	if wantsFragment(r) {
		a.render(w, r, http.StatusOK, "report", pageData{Report: newReportView(rep)})
		return
	}
	a.renderList(w, r, http.StatusOK, pageData{Report: newReportView(rep)})
}

func (a *app) setDefault(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := a.cat.SetDefault(r.Context(), id); err != nil {
		a.catalogError(w, r, err)
		return
	}
	http.Redirect(w, r, "/registries?done=default", http.StatusSeeOther)
}

// deleteView is the delete confirmation: what the delete affects, and the name to type.
type deleteView struct {
	ID, Name  string
	Default   bool
	Blocked   bool                // something the console does not prune uses it: the delete is refused
	Consumers map[string][]string // by kind: namespace, swarm-service, deployment...
	Mirrors   []string
}

func (a *app) deleteInfo(ctx context.Context, cur registry.Registry) (*deleteView, error) {
	h, err := a.cat.Health(ctx, cur.ID)
	if err != nil {
		return nil, err
	}
	v := &deleteView{ID: cur.ID, Name: cur.Name, Default: cur.Default, Consumers: map[string][]string{}}
	for _, c := range h.Consumers {
		v.Consumers[consumerLabel(c.Kind)] = append(v.Consumers[consumerLabel(c.Kind)], limitText(c.Name, 200))
		v.Blocked = v.Blocked || !servedByClusters(c)
	}
	all, err := a.cat.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range all {
		if o.Mirror != nil && o.Mirror.Of == cur.ID {
			v.Mirrors = append(v.Mirrors, limitText(o.Name, 200))
			v.Blocked = true
		}
	}
	return v, nil
}

// consumerLabel names a consumer kind in the user's words.
func consumerLabel(kind string) string {
	switch kind {
	case registry.ConsumerNamespace:
		return "Kubernetes namespaces (their pull Secrets are removed)"
	case registry.ConsumerSwarmService:
		return "Swarm services"
	case registry.ConsumerComposeProject:
		return "Compose projects"
	case consumerDeployment:
		return "Deployments"
	}
	return kind
}

// confirmDelete asks before a delete, saying what it affects; the delete needs the
// registry's name typed back.
func (a *app) confirmDelete(w http.ResponseWriter, r *http.Request) {
	a.renderConfirm(w, r, http.StatusOK, "")
}

func (a *app) renderConfirm(w http.ResponseWriter, r *http.Request, status int, problem string) {
	cur, err := a.cat.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.catalogError(w, r, err)
		return
	}
	if err := a.authz.Authorize(r.Context(), currentUser(r.Context()).principal(), catalog.ActionDelete, cur); err != nil {
		a.catalogError(w, r, err)
		return
	}
	v, err := a.deleteInfo(r.Context(), cur)
	if err != nil {
		a.catalogError(w, r, err)
		return
	}
	a.render(w, r, status, "delete", pageData{Title: "Delete " + limitText(cur.Name, 100) + "?", Delete: v, Error: problem})
}

func (a *app) deleteRegistry(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	cur, err := a.cat.Get(r.Context(), id)
	if err != nil {
		a.catalogError(w, r, err)
		return
	}
	if r.PostFormValue("confirm") != cur.Name {
		a.renderConfirm(w, r, http.StatusUnprocessableEntity, "Type the registry's name exactly to confirm the delete.")
		return
	}
	err = a.cat.Delete(r.Context(), id)
	var inUse *catalog.InUseError
	switch {
	case err == nil:
		http.Redirect(w, r, "/registries?done=deleted", http.StatusSeeOther)
	case errors.As(err, &inUse):
		a.renderList(w, r, http.StatusConflict, pageData{Error: fmt.Sprintf("%s is in use and was not deleted. Move these to another registry first:", cur.Name), InUse: inUse.Refs})
	default:
		a.catalogError(w, r, err)
	}
}

// catalogError answers a page request the Catalog refused: 404, 403 with the policy's
// reason, else a server error.
func (a *app) catalogError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, registry.ErrNotFound):
		http.Error(w, "no such registry", http.StatusNotFound)
	case errors.Is(err, registry.ErrForbidden), errors.Is(err, registry.ErrNotOwner):
		a.renderList(w, r, http.StatusForbidden, pageData{Error: forbiddenText(err)})
	default:
		a.serverError(w, r, err)
	}
}

// imageProblem checks a deployment's image against its registry: a reference that
// parses, on the registry's host (a pattern host, as ECR's, is not checked).
func imageProblem(image string, reg registry.Registry) string {
	if image == "" {
		return "give the image to deploy, e.g. ghcr.io/myorg/api:v2.1.0"
	}
	ref, err := name.ParseReference(image)
	if err != nil {
		return "is not an image reference (HOST/REPOSITORY:TAG or @sha256:...)"
	}
	host := reg.Host()
	if reg.Kind == registry.KindPublic || strings.Contains(host, "*") || host == "" {
		return ""
	}
	got := ref.Context().RegistryStr()
	if dockerHub(got) && dockerHub(host) || strings.EqualFold(got, host) {
		return ""
	}
	return fmt.Sprintf("is on %s, but %s serves %s: choose the registry of the image's host", limitText(got, 100), limitText(reg.Name, 100), host)
}

func dockerHub(host string) bool {
	switch strings.ToLower(host) {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return true
	}
	return false
}

// deploymentView is one of the console's deployments: a name using a saved registry (the
// seeds' registryConfig.registryId). They are kept as the registry's Health consumers, so
// the Catalog's delete guard sees them.
type deploymentView struct {
	Name, RegistryID, Registry, Image string
}

func (a *app) deployments(ctx context.Context) ([]deploymentView, []registry.Registry, error) {
	all, err := a.cat.List(ctx)
	if err != nil {
		return nil, nil, err
	}
	health, err := a.cat.ListHealth(ctx)
	if err != nil {
		return nil, nil, err
	}
	images, err := a.acc.deploymentImages(ctx)
	if err != nil {
		return nil, nil, err
	}
	var out []deploymentView
	for _, r := range all {
		for _, c := range health[r.ID].Consumers {
			if c.Kind == consumerDeployment {
				out = append(out, deploymentView{Name: c.Name, RegistryID: r.ID, Registry: r.Name, Image: images[c.Name]})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, all, nil
}

func (a *app) deploymentsPage(w http.ResponseWriter, r *http.Request) {
	a.renderDeployments(w, r, http.StatusOK, flashes[r.URL.Query().Get("done")], "")
}

func (a *app) renderDeployments(w http.ResponseWriter, r *http.Request, status int, flash, problem string) {
	deps, regs, err := a.deployments(r.Context())
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, status, "deployments", pageData{Title: "Deployments", Deployments: deps, Registries: regs, Flash: flash, Error: problem})
}

func (a *app) consumerNames(ctx context.Context, id string) ([]string, error) {
	h, err := a.cat.Health(ctx, id)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, c := range h.Consumers {
		if c.Kind == consumerDeployment {
			names = append(names, c.Name)
		}
	}
	return names, nil
}

func (a *app) addDeployment(w http.ResponseWriter, r *http.Request) {
	name, id := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("registry")
	if !validName(name) {
		a.renderDeployments(w, r, http.StatusUnprocessableEntity, "", "Name: use 1-64 letters, digits, '.', '-' or '_'.")
		return
	}
	reg, err := a.cat.Get(r.Context(), id)
	if err != nil {
		a.renderDeployments(w, r, http.StatusUnprocessableEntity, "", "Registry: choose a saved registry.")
		return
	}
	image := strings.TrimSpace(r.PostFormValue("image"))
	if problem := imageProblem(image, reg); problem != "" {
		a.renderDeployments(w, r, http.StatusUnprocessableEntity, "", "Image: "+problem)
		return
	}
	names, err := a.consumerNames(r.Context(), id)
	if err != nil {
		a.catalogError(w, r, err)
		return
	}
	if err := a.acc.setDeployment(r.Context(), name, id, image); err != nil {
		a.serverError(w, r, err)
		return
	}
	if !slices.Contains(names, name) {
		names = append(names, name)
	}
	if err := a.cat.SetConsumers(r.Context(), id, consumerDeployment, names); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.audit(r.Context(), currentUser(r.Context()).Name, "deployment.attach", name, "registry "+id+"; image "+image)
	http.Redirect(w, r, "/deployments?done=attached", http.StatusSeeOther)
}

func (a *app) removeDeployment(w http.ResponseWriter, r *http.Request) {
	name, id := r.PostFormValue("name"), r.PostFormValue("registry")
	names, err := a.consumerNames(r.Context(), id)
	if err != nil {
		a.catalogError(w, r, err)
		return
	}
	names = slices.DeleteFunc(names, func(n string) bool { return n == name })
	if err := a.cat.SetConsumers(r.Context(), id, consumerDeployment, names); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.acc.removeDeployment(r.Context(), name)
	a.audit(r.Context(), currentUser(r.Context()).Name, "deployment.remove", name, "registry "+id)
	http.Redirect(w, r, "/deployments?done=removed", http.StatusSeeOther)
}

func (a *app) usersPage(w http.ResponseWriter, r *http.Request) {
	a.renderUsers(w, r, http.StatusOK, flashes[r.URL.Query().Get("done")], "")
}

func (a *app) renderUsers(w http.ResponseWriter, r *http.Request, status int, flash, problem string) {
	us, err := a.acc.users(r.Context())
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, status, "users", pageData{Title: "Users", Users: us, Flash: flash, Error: problem, Policy: a.policyTable(r.Context())})
}

func (a *app) createUser(w http.ResponseWriter, r *http.Request) {
	me := currentUser(r.Context())
	if !me.Admin() {
		a.renderUsers(w, r, http.StatusForbidden, "", "Only an admin creates users.")
		return
	}
	name, password := strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("password")
	if !validName(name) {
		a.renderUsers(w, r, http.StatusUnprocessableEntity, "", "Username: use 1-64 letters, digits, '.', '-' or '_'.")
		return
	}
	if err := checkPassword(password); err != nil {
		a.renderUsers(w, r, http.StatusUnprocessableEntity, "", "Password "+err.Error()+".")
		return
	}
	u := user{Name: name, Role: roleUser, Creator: me.Name, Teams: nameList(r.PostFormValue("teams")), Projects: nameList(r.PostFormValue("projects"))}
	if r.PostFormValue("role") == roleAdmin {
		u.Role = roleAdmin
	}
	for _, n := range append(slices.Clone(u.Teams), u.Projects...) {
		if !validName(n) {
			a.renderUsers(w, r, http.StatusUnprocessableEntity, "", "Teams and projects: comma-separated names of 1-64 letters, digits, '.', '-' or '_'.")
			return
		}
	}
	if err := a.acc.createUser(r.Context(), u, password, a.now()); err != nil {
		if errors.Is(err, errUserExists) {
			a.renderUsers(w, r, http.StatusConflict, "", "Username: "+name+" exists.")
			return
		}
		a.serverError(w, r, err)
		return
	}
	a.audit(r.Context(), me.Name, "user.create", name, "role "+u.Role+"; teams "+strings.Join(u.Teams, ",")+"; projects "+strings.Join(u.Projects, ","))
	http.Redirect(w, r, "/users?done=user", http.StatusSeeOther)
}

// nameList reads a comma-separated list of names.
func nameList(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// manageUser disables, enables or removes a user (admins only; never oneself).
func (a *app) manageUser(w http.ResponseWriter, r *http.Request) {
	me := currentUser(r.Context())
	name, op := r.PathValue("name"), r.PostFormValue("op")
	if !me.Admin() {
		a.renderUsers(w, r, http.StatusForbidden, "", "Only an admin manages users.")
		return
	}
	if name == me.Name {
		a.renderUsers(w, r, http.StatusUnprocessableEntity, "", "You cannot disable or remove yourself: another admin can.")
		return
	}
	var err error
	switch op {
	case "disable", "enable":
		err = a.acc.setDisabled(r.Context(), name, op == "disable")
	case "remove":
		err = a.acc.removeUser(r.Context(), name)
	default:
		a.renderUsers(w, r, http.StatusUnprocessableEntity, "", "Choose disable, enable or remove.")
		return
	}
	if errors.Is(err, errNoUser) {
		a.renderUsers(w, r, http.StatusNotFound, "", "No user "+limitText(name, 64)+".")
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.forgetBasic(name)
	a.audit(r.Context(), me.Name, "user."+op, name, "")
	http.Redirect(w, r, "/users?done="+op, http.StatusSeeOther)
}

// changePassword sets the user's own password after checking the current one, and ends
// every other session of theirs.
func (a *app) changePassword(w http.ResponseWriter, r *http.Request) {
	me := currentUser(r.Context())
	if _, err := a.acc.verify(r.Context(), me.Name, r.PostFormValue("current")); err != nil {
		a.renderUsers(w, r, http.StatusUnprocessableEntity, "", "Current password: wrong.")
		return
	}
	next := r.PostFormValue("new")
	if err := checkPassword(next); err != nil {
		a.renderUsers(w, r, http.StatusUnprocessableEntity, "", "New password "+err.Error()+".")
		return
	}
	if err := a.acc.setPassword(r.Context(), me.Name, next, currentSession(r.Context())); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.forgetBasic(me.Name)
	a.audit(r.Context(), me.Name, "user.password", me.Name, "other sessions ended")
	http.Redirect(w, r, "/users?done=password", http.StatusSeeOther)
}

func (a *app) auditPage(w http.ResponseWriter, r *http.Request) {
	entries, err := a.auditEntries(r.Context(), 500)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "audit", pageData{Title: "Audit log", Audit: entries})
}

func (a *app) clustersPage(w http.ResponseWriter, r *http.Request) {
	a.renderClusters(w, r, http.StatusOK, flashes[r.URL.Query().Get("done")], "")
}

func (a *app) renderClusters(w http.ResponseWriter, r *http.Request, status int, flash, problem string) {
	cs, err := a.clusters.list(r.Context())
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.render(w, r, status, "clusters", pageData{Title: "Clusters", Clusters: cs, Flash: flash, Error: problem})
}

// addCluster stores an uploaded (or pasted) kubeconfig sealed and starts its controller
// (admins only: a kubeconfig is a cluster's keys).
func (a *app) addCluster(w http.ResponseWriter, r *http.Request) {
	me := currentUser(r.Context())
	if !me.Admin() {
		a.renderClusters(w, r, http.StatusForbidden, "", "Only an admin adds clusters.")
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if !validName(name) {
		a.renderClusters(w, r, http.StatusUnprocessableEntity, "", "Name: use 1-64 letters, digits, '.', '-' or '_'.")
		return
	}
	kc := []byte(r.PostFormValue("kubeconfig"))
	if f, _, err := r.FormFile("kubeconfigFile"); err == nil {
		b, _ := io.ReadAll(io.LimitReader(f, 256<<10))
		f.Close()
		if len(strings.TrimSpace(string(b))) > 0 {
			kc = b
		}
	}
	if err := a.clusters.add(r.Context(), name, kc, strings.TrimSpace(r.PostFormValue("selector")), a.now()); err != nil {
		a.renderClusters(w, r, http.StatusUnprocessableEntity, "", err.Error())
		return
	}
	a.cat.Invalidate() // Kubernetes token registries get the cluster's client
	a.audit(r.Context(), me.Name, "cluster.add", name, "namespaces "+r.PostFormValue("selector"))
	http.Redirect(w, r, "/clusters?done=cluster", http.StatusSeeOther)
}

func (a *app) removeCluster(w http.ResponseWriter, r *http.Request) {
	me := currentUser(r.Context())
	if !me.Admin() {
		a.renderClusters(w, r, http.StatusForbidden, "", "Only an admin removes clusters.")
		return
	}
	name := r.PathValue("name")
	if err := a.clusters.remove(r.Context(), name); err != nil {
		a.serverError(w, r, err)
		return
	}
	a.audit(r.Context(), me.Name, "cluster.remove", name, "")
	http.Redirect(w, r, "/clusters?done=uncluster", http.StatusSeeOther)
}
