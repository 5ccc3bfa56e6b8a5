package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
)

// apiRegistry is the JSON API's record, in the seeds' shape: {"name", "type", "url",
// "credentials": {...}} with the seeds' type keys ("GHCR", "Docker", "ECR", ...). In a
// response, credentials hold the non-secret fields only and storedSecrets names the secret
// ones that are set; a secret value never leaves the console.
type apiRegistry struct {
	ID            string            `json:"id,omitempty"`
	Name          string            `json:"name"`
	Type          string            `json:"type"`
	URL           string            `json:"url,omitempty"`
	Credentials   map[string]string `json:"credentials,omitempty"`
	StoredSecrets []string          `json:"storedSecrets,omitempty"`
	Default       bool              `json:"default"`
	TLS           *apiTLS           `json:"tls,omitempty"`
	Owner         string            `json:"owner,omitempty"`
	Version       int64             `json:"version,omitempty"`
	Created       *time.Time        `json:"created,omitempty"`
	Updated       *time.Time        `json:"updated,omitempty"`
	Health        *registry.Health  `json:"health,omitempty"`
}

type apiTLS struct {
	Mode        string `json:"mode,omitempty"`
	CABundle    string `json:"caBundle,omitempty"`
	SystemRoots bool   `json:"systemRoots,omitempty"`
}

func toAPI(r registry.Registry, h *registry.Health) apiRegistry {
	out := apiRegistry{ID: r.ID, Name: r.Name, Type: r.Kind.TypeKey(), URL: r.Server, Default: r.Default, Owner: r.Owner,
		Version: r.Version, Created: &r.Created, Updated: &r.Updated, Health: h}
	for k, v := range r.Fields {
		if r.IsSecretField(k) {
			if v != "" {
				out.StoredSecrets = append(out.StoredSecrets, k)
			}
			continue
		}
		if out.Credentials == nil {
			out.Credentials = map[string]string{}
		}
		out.Credentials[k] = v
	}
	sort.Strings(out.StoredSecrets)
	if r.TLS != (registry.TLS{}) {
		out.TLS = &apiTLS{Mode: string(r.TLS.Mode), CABundle: r.TLS.CABundle, SystemRoots: r.TLS.SystemRoots}
	}
	return out
}

// fromAPI reads a request body into a record (no ID, version or owner: those are the
// console's).
func fromAPI(in apiRegistry) (registry.Registry, error) {
	kind, err := registry.ParseKind(in.Type)
	if err != nil {
		return registry.Registry{}, &registry.ValidationError{Errors: []*registry.FieldError{{Field: "type", Reason: "is not a registry type", Hint: "one of " + typeKeys()}}}
	}
	r := registry.Registry{Name: in.Name, Kind: kind, Server: strings.TrimSpace(in.URL), Default: in.Default}
	for k, v := range in.Credentials {
		if v == "" {
			continue
		}
		if k == "url" && r.Server == "" { // the seeds put a custom registry's url among its credentials
			r.Server = strings.TrimSpace(v)
			continue
		}
		if r.Fields == nil {
			r.Fields = map[string]string{}
		}
		r.Fields[k] = v
	}
	if in.TLS != nil {
		r.TLS = registry.TLS{Mode: registry.TLSMode(in.TLS.Mode), CABundle: in.TLS.CABundle, SystemRoots: in.TLS.SystemRoots}
	}
	return r, nil
}

func typeKeys() string {
	var keys []string
	for _, k := range registry.Kinds() {
		keys = append(keys, k.TypeKey())
	}
	return strings.Join(keys, ", ")
}

func etag(version int64) string { return `"v` + strconv.FormatInt(version, 10) + `"` }

// ifMatch reads the version an If-Match names; ok is false when the header is absent,
// malformed or a list.
func ifMatch(r *http.Request) (version int64, present, ok bool) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, false, false
	}
	h = strings.TrimPrefix(h, "W/")
	if !strings.HasPrefix(h, `"v`) || !strings.HasSuffix(h, `"`) {
		return 0, true, false
	}
	v, err := strconv.ParseInt(h[2:len(h)-1], 10, 64)
	return v, true, err == nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

type apiFieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
	Hint   string `json:"hint,omitempty"`
}

type apiError struct {
	Error  string          `json:"error"`
	Fields []apiFieldError `json:"fields,omitempty"`
	InUse  []string        `json:"inUse,omitempty"`
}

func writeJSONError(w http.ResponseWriter, status int, msg string, err error) {
	e := apiError{Error: msg}
	for _, fe := range fieldErrors(err) {
		e.Fields = append(e.Fields, apiFieldError{Field: fe.Field, Reason: fe.Reason, Hint: fe.Hint})
	}
	var inUse *catalog.InUseError
	if errors.As(err, &inUse) {
		e.InUse = inUse.Refs
	}
	writeJSON(w, status, e)
}

// writeCatalogError maps a Catalog error to its status.
func writeCatalogError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, registry.ErrNotFound):
		writeJSONError(w, http.StatusNotFound, "no such registry", nil)
	case errors.Is(err, registry.ErrConflict):
		writeJSONError(w, http.StatusPreconditionFailed, "the registry changed since you read it: GET it again and retry with its ETag", nil)
	case errors.Is(err, registry.ErrInUse):
		writeJSONError(w, http.StatusConflict, "the registry is in use: move these to another registry first", err)
	case errors.Is(err, registry.ErrNotOwner):
		writeJSONError(w, http.StatusForbidden, "only the user who created the registry may delete it", nil)
	case errors.Is(err, registry.ErrInvalid), errors.Is(err, registry.ErrRedacted):
		writeJSONError(w, http.StatusUnprocessableEntity, "the registry is not valid", err)
	default:
		writeJSONError(w, http.StatusInternalServerError, "the console failed: see its log", nil)
	}
}

func decodeBody(w http.ResponseWriter, r *http.Request) (apiRegistry, bool) {
	var in apiRegistry
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		// The decoder's text may quote a value of the body: say where, not what.
		writeJSONError(w, http.StatusBadRequest, `the body is not a registry: send {"name","type","url","credentials":{...}}`, nil)
		return in, false
	}
	return in, true
}

func (a *app) apiList(w http.ResponseWriter, r *http.Request) {
	all, err := a.cat.List(r.Context())
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	health, err := a.listHealth(r.Context())
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	out := make([]apiRegistry, 0, len(all))
	for _, x := range all {
		h := health[x.ID]
		if h.CredentialsExpire.IsZero() {
			h.CredentialsExpire = x.CredentialsExpire
		}
		out = append(out, toAPI(x, &h))
	}
	writeJSON(w, http.StatusOK, map[string]any{"registries": out})
}

func (a *app) apiCreate(w http.ResponseWriter, r *http.Request) {
	in, ok := decodeBody(w, r)
	if !ok {
		return
	}
	rec, err := fromAPI(in)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	me := currentUser(r.Context()).Name
	rec.Owner = me
	saved, err := a.cat.Add(r.Context(), rec)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	a.audit(r.Context(), me, "registry.add", saved.Name+" ("+saved.ID+")", "via API; type "+saved.Kind.TypeKey())
	w.Header().Set("ETag", etag(saved.Version))
	w.Header().Set("Location", "/api/v1/registries/"+saved.ID)
	writeJSON(w, http.StatusCreated, toAPI(saved, nil))
}

func (a *app) apiGet(w http.ResponseWriter, r *http.Request) {
	cur, err := a.cat.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	h, err := a.cat.Health(r.Context(), cur.ID)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	w.Header().Set("ETag", etag(cur.Version))
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm == etag(cur.Version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSON(w, http.StatusOK, toAPI(cur, &h))
}

// apiPut replaces a record's fields: a secret left out or blank keeps the stored one
// (Merge's rules), so a client rotates one secret by sending it alone with the others.
// It needs If-Match with the ETag the client read: without it 428, stale 412.
func (a *app) apiPut(w http.ResponseWriter, r *http.Request) {
	version, present, ok := ifMatch(r)
	if !present {
		writeJSONError(w, http.StatusPreconditionRequired, "send If-Match with the ETag of the registry as you read it (GET it first)", nil)
		return
	}
	if !ok {
		writeJSONError(w, http.StatusPreconditionFailed, `If-Match is not an ETag of this API ("v" and the version, quoted)`, nil)
		return
	}
	in, ok := decodeBody(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	cur, err := a.cat.Get(r.Context(), id)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	edit, err := fromAPI(in)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	edit.ID, edit.Version = id, version
	var opts []registry.MergeOption
	if !in.Default && cur.Default {
		opts = append(opts, registry.UnsetDefault())
	}
	saved, err := a.cat.Update(r.Context(), edit, opts...)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	posted := map[string]string{}
	for k, v := range edit.Fields {
		posted[k] = v
	}
	a.audit(r.Context(), currentUser(r.Context()).Name, "registry.update", saved.Name+" ("+saved.ID+")", "via API; "+changeSummary(cur, saved, posted))
	w.Header().Set("ETag", etag(saved.Version))
	writeJSON(w, http.StatusOK, toAPI(saved, nil))
}

func (a *app) apiDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	cur, err := a.cat.Get(r.Context(), id)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	if version, present, ok := ifMatch(r); present && (!ok || version != cur.Version) {
		writeJSONError(w, http.StatusPreconditionFailed, "the registry changed since you read it: GET it again", nil)
		return
	}
	me := currentUser(r.Context()).Name
	if err := a.cat.Delete(r.Context(), id, me); err != nil {
		writeCatalogError(w, err)
		return
	}
	a.audit(r.Context(), me, "registry.delete", cur.Name+" ("+id+")", "via API")
	w.WriteHeader(http.StatusNoContent)
}

func (a *app) apiTest(w http.ResponseWriter, r *http.Request) {
	rep, err := a.cat.Test(r.Context(), r.PathValue("id"), a.testOpts...)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
