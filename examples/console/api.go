package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/document"
)

// apiRegistry is the JSON API's record, in the seeds' shape: {"name", "type", "url",
// "credentials": {...}} with the seeds' type keys ("GHCR", "Docker", "ECR", ...). In a
// response, credentials hold the non-secret fields only and storedSecrets names the secret
// ones that are set; a secret value never leaves the console.
type apiRegistry struct {
	ID            string              `json:"id,omitempty"`
	Name          string              `json:"name"`
	Type          string              `json:"type"`
	URL           string              `json:"url,omitempty"`
	Credentials   map[string]string   `json:"credentials,omitempty"`
	StoredSecrets []string            `json:"storedSecrets,omitempty"`
	Default       bool                `json:"default"`
	TLS           *apiTLS             `json:"tls,omitempty"`
	Scope         *registry.Scope     `json:"scope,omitempty"`
	Owner         string              `json:"owner,omitempty"`
	Version       int64               `json:"version,omitempty"`
	Created       *time.Time          `json:"created,omitempty"`
	Updated       *time.Time          `json:"updated,omitempty"`
	Health        *registry.Health    `json:"health,omitempty"`
	Inferred      *document.Inference `json:"inferred,omitempty"` // how the type was chosen when the request gave none
	Warnings      []string            `json:"warnings,omitempty"` // after a save: the records a pull passes over because of it, or it for them
}

type apiTLS struct {
	Mode        string `json:"mode,omitempty"`
	CABundle    string `json:"caBundle,omitempty"`
	SystemRoots bool   `json:"systemRoots,omitempty"`
}

// apiInput is a request body: the record's keys, each optional, so that a PUT keeps what
// it leaves out. It takes the documents' flat shape too ("username", "password" beside
// "url", the type inferred from the URL when left out), and the read-only keys a GET
// returns (ignored), so a client may send back what it read. Image is for a draft test.
type apiInput struct {
	Name              *string         `json:"name"`
	Type              string          `json:"type"`
	URL               *string         `json:"url"`
	Username          *string         `json:"username"`
	Password          *string         `json:"password"`
	Credentials       credentials     `json:"credentials"`
	Default           *bool           `json:"default"`
	TLS               *apiTLS         `json:"tls"`
	Scope             *registry.Scope `json:"scope"`
	CredentialsExpire *time.Time      `json:"credentialsExpire"`
	Image             string          `json:"image"`

	ID            string          `json:"id"`
	StoredSecrets []string        `json:"storedSecrets"`
	Owner         string          `json:"owner"`
	Version       int64           `json:"version"`
	Created       *time.Time      `json:"created"`
	Updated       *time.Time      `json:"updated"`
	Health        json.RawMessage `json:"health"`
	Inferred      json.RawMessage `json:"inferred"`
}

// maxCredentialKeys bounds the credentials object: the widest kind has a handful of
// fields, and a body of 80,000 made-up keys must cost a line, not a minute.
const maxCredentialKeys = 32

// credentials is a request's credentials object, read key by key: the decoding stops at
// the first key past maxCredentialKeys instead of building a map of them all.
type credentials map[string]string

// errTooManyCredentials is the refusal of a credentials object past the bound.
var errTooManyCredentials = invalid("credentials", fmt.Sprintf("has more than %d keys", maxCredentialKeys), "send only the fields of the registry's type")

func (c *credentials) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t == nil {
		*c = nil
		return err
	} else if t != json.Delim('{') {
		return &json.UnmarshalTypeError{Value: "non-object", Type: reflect.TypeFor[map[string]string](), Field: "credentials"}
	}
	out := credentials{}
	for dec.More() {
		if len(out) == maxCredentialKeys {
			return errTooManyCredentials
		}
		k, err := dec.Token()
		if err != nil {
			return err
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			return &json.UnmarshalTypeError{Value: "non-string", Type: reflect.TypeFor[string](), Field: "credentials." + limitText(k.(string), 64)}
		}
		out[k.(string)] = v
	}
	*c = out
	return nil
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
	if !r.Scope.IsZero() {
		s := r.Scope
		out.Scope = &s
	}
	return out
}

// fromAPI applies a request body to base: the zero record for a new one, the stored record
// (redacted) for a PUT, so that every key the body leaves out keeps its value. A secret
// sent blank keeps the stored one (Merge's rule); another credential sent blank is
// removed. Without a type, a new record's type is inferred from its URL and said.
func fromAPI(in apiInput, base registry.Registry) (registry.Registry, *document.Inference, error) {
	r := base.Clone()
	if in.Type != "" {
		kind, err := registry.ParseKind(in.Type)
		if err != nil {
			return registry.Registry{}, nil, invalid("type", "is not a registry type", "one of "+typeKeys())
		}
		if kind != base.Kind {
			r.Kind, r.Fields = kind, nil // another kind's credentials do not carry over
		}
	}
	if in.Name != nil {
		r.Name = *in.Name
	}
	if in.URL != nil {
		r.Server = strings.TrimSpace(*in.URL)
	}
	if v, ok := in.Credentials["url"]; ok && in.URL == nil { // the seeds put a custom registry's url among its credentials
		r.Server = strings.TrimSpace(v)
	}
	if in.Default != nil {
		r.Default = *in.Default
	}
	if in.TLS != nil {
		r.TLS = registry.TLS{Mode: registry.TLSMode(in.TLS.Mode), CABundle: in.TLS.CABundle, SystemRoots: in.TLS.SystemRoots}
	}
	if in.Scope != nil {
		r.Scope = *in.Scope
	}
	if in.CredentialsExpire != nil {
		r.CredentialsExpire = *in.CredentialsExpire
	}
	var inf *document.Inference
	if r.Kind == "" {
		var err error
		if inf, err = document.Infer(&r); err != nil {
			return registry.Registry{}, nil, err
		}
	}
	if r.Fields == nil {
		r.Fields = map[string]string{}
	}
	if in.Username != nil || in.Password != nil { // the documents' flat shape
		f, err := document.FlatFields(r.Kind, deref(in.Username), deref(in.Password))
		if err != nil {
			return registry.Registry{}, nil, err
		}
		maps.Copy(r.Fields, f)
	}
	for k, v := range in.Credentials {
		if k == "url" {
			continue
		}
		if _, has := r.Kind.Field("password"); k == "password" && !has { // the documents' GHCR and Quay: the password is the token
			f, err := document.FlatFields(r.Kind, "", v)
			if err != nil {
				return registry.Registry{}, nil, err
			}
			maps.Copy(r.Fields, f)
			continue
		}
		switch {
		case v != "":
			r.Fields[k] = v
		case !r.IsSecretField(k):
			delete(r.Fields, k) // blank removes a plain field; a blank secret keeps the stored one
		}
	}
	return r, inf, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// invalid is a request problem of one field.
func invalid(field, reason, hint string) error {
	return &registry.ValidationError{Errors: []*registry.FieldError{{Field: field, Reason: reason, Hint: hint}}}
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
	// MoreFields counts the problems left out of Fields (at most maxFieldErrors are listed).
	MoreFields int      `json:"moreFields,omitempty"`
	InUse      []string `json:"inUse,omitempty"`
}

// maxFieldErrors bounds the problems an answer lists: enough for every input of a form,
// never megabytes for a hostile body.
const maxFieldErrors = 20

func writeJSONError(w http.ResponseWriter, status int, msg string, err error) {
	e := apiError{Error: msg}
	fes := fieldErrors(err)
	if len(fes) > maxFieldErrors {
		e.MoreFields = len(fes) - maxFieldErrors
		fes = fes[:maxFieldErrors]
	}
	for _, fe := range fes {
		e.Fields = append(e.Fields, apiFieldError{Field: limitText(fe.Field, 100), Reason: fe.Reason, Hint: fe.Hint})
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
	case errors.Is(err, registry.ErrForbidden):
		writeJSONError(w, http.StatusForbidden, forbiddenText(err), nil)
	case errors.Is(err, registry.ErrInvalid), errors.Is(err, registry.ErrRedacted):
		writeJSONError(w, http.StatusUnprocessableEntity, "the registry is not valid", err)
	default:
		writeJSONError(w, http.StatusInternalServerError, "the console failed: see its log", nil)
	}
}

// decodeBody reads a request body (at most 1 MiB: the api wrapper's limit). An unknown
// key is named; the decoder's other texts may quote a value of the body, so those say
// where, not what.
func decodeBody(w http.ResponseWriter, r *http.Request) (apiInput, bool) {
	var in apiInput
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(&in)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err == nil {
		return in, true
	}
	msg := `the body is not a registry: send {"name","type","url","credentials":{...}}`
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, errTooManyCredentials):
		writeJSONError(w, http.StatusUnprocessableEntity, "the registry is not valid", err)
		return in, false
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		key, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		msg = fmt.Sprintf("the body has the key %q, which is not a key of a registry: send name, type, url, credentials, default, tls, scope, credentialsExpire (or the documents' username and password)", limitText(key, 64))
	case errors.As(err, &syntax):
		msg = fmt.Sprintf("the body is not JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		msg = fmt.Sprintf("the body's key %q has the wrong type: want %s", limitText(typ.Field, 64), typ.Type)
	case errors.As(err, &tooBig):
		msg = "the body is larger than 1 MiB"
	}
	writeJSONError(w, http.StatusBadRequest, msg, nil)
	return in, false
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
	rec, inf, err := fromAPI(in, registry.Registry{})
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	rec.Owner = currentUser(r.Context()).Name
	saved, err := a.cat.Add(r.Context(), rec)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	w.Header().Set("ETag", etag(saved.Version))
	w.Header().Set("Location", "/api/v1/registries/"+saved.ID)
	out := toAPI(saved, nil)
	out.Inferred, out.Warnings = inf, a.shadowWarnings(r.Context(), saved.ID)
	writeJSON(w, http.StatusCreated, out)
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

// apiPut edits a record. Every key the body leaves out keeps its stored value (a
// client changes the password by sending the password alone), a secret sent blank keeps
// the stored one, and a plain field is removed by sending it blank. It needs If-Match
// with the ETag the client read: without it 428, stale 412.
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
	edit, _, err := fromAPI(in, cur)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	edit.ID, edit.Version = id, version
	var opts []registry.MergeOption
	if in.Default != nil && !*in.Default && cur.Default {
		opts = append(opts, registry.UnsetDefault())
	}
	saved, err := a.cat.Update(r.Context(), edit, opts...)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	w.Header().Set("ETag", etag(saved.Version))
	out := toAPI(saved, nil)
	out.Warnings = a.shadowWarnings(r.Context(), saved.ID)
	writeJSON(w, http.StatusOK, out)
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
	if err := a.cat.Delete(r.Context(), id); err != nil {
		writeCatalogError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiTest tests a saved registry; with a body, it tests the body as a draft edit of it
// (blank secrets use the stored ones), with the body's image if it names one.
func (a *app) apiTest(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if r.ContentLength == 0 {
		rep, err := a.cat.Test(r.Context(), id, a.testOptions(r.URL.Query().Get("image"))...)
		if err != nil {
			writeCatalogError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, rep)
		return
	}
	cur, err := a.cat.Get(r.Context(), id)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	a.apiTestDraft(w, r, cur)
}

// apiTestNew tests a registry that is not saved: the body, as POST would save it.
func (a *app) apiTestNew(w http.ResponseWriter, r *http.Request) {
	a.apiTestDraft(w, r, registry.Registry{})
}

func (a *app) apiTestDraft(w http.ResponseWriter, r *http.Request, base registry.Registry) {
	in, ok := decodeBody(w, r)
	if !ok {
		return
	}
	draft, _, err := fromAPI(in, base)
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	image := in.Image
	if image == "" {
		image = r.URL.Query().Get("image")
	}
	rep, err := a.cat.TestDraft(r.Context(), draft, catalog.WithTestOptions(a.testOptions(image)...))
	if err != nil {
		writeCatalogError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
