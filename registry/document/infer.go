package document

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/regcred/regcred/internal/hosts"
	"github.com/regcred/regcred/internal/suggest"
	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registry"
)

// The documents' shape. The product documents (seeds 000 and 001) write a registry flat,
// without a type, with the credentials beside the URL:
//
//	name: GitHub Registry
//	url: ghcr.io
//	username: my-github-user
//	password: ghp_xxxxxxxxxxxx
//
// A Document is that shape; FromDocument turns it into a Registry: a missing type is
// inferred from the URL's host (InferKind), and username/password go to the kind's own
// fields (FlatFields). An explicit type always wins over the host.

// Document is a registry as the product documents write it: flat, type optional.
type Document struct {
	ID       string       `json:"id,omitempty"`
	Name     string       `json:"name"`
	Type     string       `json:"type,omitempty"` // optional: inferred from URL when empty
	URL      string       `json:"url"`
	Username string       `json:"username,omitempty"`
	Password string       `json:"password,omitempty"`
	Default  bool         `json:"default,omitempty"`
	TLS      registry.TLS `json:"tls,omitzero"` // not in the documents; a platform's form may add it
}

// Inference says how a record's kind was chosen when the input gave no type.
type Inference struct {
	Kind registry.Kind `json:"kind"`
	Host string        `json:"host"` // the host the kind was read from ("" when there was none)
	// Fields are the credential fields filled from the host (ECR's and GAR's region, ACR's
	// loginServer), by name.
	Fields []string `json:"fields,omitempty"`
}

// String says what was inferred: `type ghcr (GitHub Container Registry) inferred from
// host ghcr.io`.
func (i Inference) String() string {
	s := "type " + string(i.Kind) + " (" + i.Kind.Label() + ") inferred from host " + i.Host
	if len(i.Fields) > 0 {
		s += "; " + strings.Join(i.Fields, ", ") + " from the host too"
	}
	return s
}

// InferKind returns the kind a registry URL's host implies, and the credential fields the
// host itself gives (ECR's region, GAR's region, ACR's loginServer):
//
//	docker.io, index.docker.io, registry-1.docker.io    Docker Hub
//	ghcr.io                                             GHCR
//	quay.io                                             Quay
//	NAME.azurecr.io (.cn, .us), *.azurecr.io            ACR (loginServer = the host)
//	ACCOUNT.dkr.ecr.REGION.amazonaws.com, ...ecr-fips..., .amazonaws.com.cn, .amazonaws.eu,
//	  the dual-stack dkr-ecr...on.aws, *.dkr.ecr.*.amazonaws.com, public.ecr.aws,
//	  ecr-public.aws.com                                ECR (region from the host)
//	gcr.io, us.gcr.io, eu.gcr.io, asia.gcr.io           GCR
//	REGION-docker.pkg.dev                               GAR (region from the host)
//	anything else                                       Custom
//
// A URL that does not parse is the *FieldError of ParseServer, for field "url".
func InferKind(url string) (registry.Kind, map[string]string, error) {
	s, err := registry.ParseServer(url)
	if err != nil {
		return "", nil, err
	}
	host := hosts.Hostname(s.Host)
	switch {
	case hosts.IsDockerHub(host):
		return registry.KindDockerHub, nil, nil
	case host == "ghcr.io":
		return registry.KindGHCR, nil, nil
	case host == "quay.io":
		return registry.KindQuay, nil, nil
	case acrHostRE.MatchString(host):
		if s.Wildcard {
			return registry.KindACR, nil, nil
		}
		return registry.KindACR, map[string]string{"loginServer": host}, nil
	case gcrHosts[host]:
		return registry.KindGCR, nil, nil
	}
	if m := garHostRE.FindStringSubmatch(host); m != nil {
		return registry.KindGAR, map[string]string{"region": m[1]}, nil
	}
	if region, ok := ecrHostRegion(host); ok {
		if region == "" || region == "*" {
			return registry.KindECR, nil, nil
		}
		return registry.KindECR, map[string]string{"region": region}, nil
	}
	return registry.KindCustom, nil, nil
}

var (
	acrHostRE = regexp.MustCompile(`^([a-z0-9-]+|\*)\.azurecr\.(io|cn|us)$`)
	garHostRE = regexp.MustCompile(`^([a-z0-9-]+)-docker\.pkg\.dev$`)
	gcrHosts  = map[string]bool{"gcr.io": true, "us.gcr.io": true, "eu.gcr.io": true, "asia.gcr.io": true}
	// ACCOUNT.dkr.ecr[-fips].REGION.SUFFIX or ACCOUNT.dkr-ecr[-fips].REGION.SUFFIX
	ecrHostRE = regexp.MustCompile(`^([0-9]{12}|\*)\.dkr[.-]ecr(-fips)?\.([a-z0-9-]+|\*)\.([a-z0-9.-]+)$`)
)

// ecrDualStackSuffixes are the DNS suffixes of ECR's dual-stack hosts (dkr-ecr).
var ecrDualStackSuffixes = map[string]string{"on.aws": "aws", "on.amazonwebservices.com.cn": "aws-cn"}

// ecrHostRegion reports whether host is an ECR registry host, with the region it names
// ("us-east-1" for ECR Public, "" or "*" for a wildcard). The suffix must be the one the
// region's partition serves (AWSDNSSuffix), as providers/ecr.Parse checks in full.
func ecrHostRegion(host string) (string, bool) {
	if host == "public.ecr.aws" || host == "ecr-public.aws.com" {
		return "us-east-1", true
	}
	m := ecrHostRE.FindStringSubmatch(host)
	if m == nil {
		return "", false
	}
	region, suffix := m[3], m[4]
	if region == "*" {
		return "", suffix == "amazonaws.com" || suffix == "amazonaws.com.cn" || suffix == "amazonaws.eu"
	}
	p, ok := registry.AWSPartition(region)
	if !ok {
		return "", false
	}
	if suffix == registry.AWSDNSSuffix(p) {
		return region, true
	}
	if dp, ok := ecrDualStackSuffixes[suffix]; ok && (dp == p || p == "aws-us-gov" && dp == "aws") {
		return region, true
	}
	return "", false
}

// flatNames are the kind's fields the documents' flat username and password fill ("" for
// none); ok is false for a kind that takes neither.
func flatNames(k registry.Kind) (user, pass string, ok bool) {
	switch k {
	case registry.KindDockerHub, registry.KindHarbor, registry.KindCustom, registry.KindACR:
		return "username", "password", true
	case registry.KindGHCR, registry.KindQuay:
		return "username", "token", true // the password is the token
	case registry.KindECR:
		return "accessKeyId", "secretAccessKey", true
	case registry.KindGCR, registry.KindGAR:
		return "", "serviceAccountKey", true // username _json_key, as docker login takes it
	}
	return "", "", false
}

// FlatFields maps the documents' flat username and password to the kind's own credential
// fields: username/password for Docker Hub, Harbor, Custom and ACR; username/token for GHCR
// and Quay (the password is the token); accessKeyId/secretAccessKey for ECR; for GCR and
// GAR the password is the service account key (the username, when given, must be
// _json_key, as `docker login` takes it). Public and Kubernetes registries take neither:
// a *FieldError naming the field says what to write instead. Empty values are left out.
func FlatFields(k registry.Kind, username, password string) (map[string]string, error) {
	out := map[string]string{}
	user, pass, ok := flatNames(k)
	if !ok {
		if username == "" && password == "" {
			return out, nil
		}
		field := "username"
		if username == "" {
			field = "password"
		}
		hint := "leave username and password out"
		if k == registry.KindKubernetes {
			hint = "a Kubernetes token registry takes credentials.serviceAccount (namespace/name), not a password"
		}
		return nil, &registry.FieldError{Field: field, Reason: "is not used by " + k.Label(), Hint: hint}
	}
	if user == "" && username != "" && username != "_json_key" {
		return nil, &registry.FieldError{Field: "username", Reason: "is not used by " + k.Label(),
			Hint: "leave it out (or write _json_key) and put the service account key JSON in password"}
	}
	if user != "" && username != "" {
		out[user] = username
	}
	if password != "" {
		out[pass] = password
	}
	return out, nil
}

// FlatFieldOf is the flat key ("username" or "password") whose value FlatFields puts in the
// kind's field, or "" for a field no flat key fills. Decoders use it to name a problem of
// "token" after the "password" the user wrote.
func FlatFieldOf(k registry.Kind, field string) string {
	user, pass, ok := flatNames(k)
	switch {
	case !ok || field == "":
		return ""
	case field == user:
		return "username"
	case field == pass:
		return "password"
	}
	return ""
}

// Infer completes a record read from the documents' shape: when r.Kind is empty it is
// inferred from r.Server (InferKind) and the returned Inference says so (nil when the kind
// was given); when the kind is the one the host implies, the fields the host gives (ECR's
// and GAR's region, ACR's loginServer) fill those left empty. An empty kind without a
// server, or with one that does not parse, is a *FieldError ("type" or "url"); a given
// kind is never changed, and a server that does not parse is then left to Validate.
func Infer(r *registry.Registry) (*Inference, error) {
	var hostKind registry.Kind
	var hostFields map[string]string
	var urlErr error
	if r.Server != "" {
		hostKind, hostFields, urlErr = InferKind(r.Server)
	}
	var inf *Inference
	if r.Kind == "" {
		switch {
		case r.Server == "":
			return nil, &registry.FieldError{Field: "type", Reason: "is missing and there is no url to infer it from", Hint: "give url (e.g. ghcr.io) or type (e.g. GHCR)"}
		case urlErr != nil:
			return nil, urlErr
		}
		r.Kind = hostKind
		inf = &Inference{Kind: hostKind, Host: r.Host()}
	}
	if r.Kind != hostKind {
		return inf, nil
	}
	for _, name := range slices.Sorted(maps.Keys(hostFields)) {
		if r.Fields[name] != "" {
			continue
		}
		if r.Fields == nil {
			r.Fields = map[string]string{}
		}
		r.Fields[name] = hostFields[name]
		if inf != nil {
			inf.Fields = append(inf.Fields, name)
		}
	}
	return inf, nil
}

// Record turns the document into a record without validating it (a platform's update
// form may leave a secret blank to keep the stored one; the Catalog validates what it
// saves): the type parsed, or inferred (the Inference says so), and username/password in
// the kind's own fields. Its error is the type or the URL the type was to be inferred
// from, or a flat field the kind does not take: a *FieldError.
func (d Document) Record() (registry.Registry, *Inference, error) {
	r := registry.Registry{ID: d.ID, Name: d.Name, Server: d.URL, Default: d.Default, TLS: d.TLS}
	if d.Type != "" {
		k, err := registry.ParseKind(d.Type)
		if err != nil {
			return registry.Registry{}, nil, err
		}
		r.Kind = k
	}
	inf, err := Infer(&r)
	if err != nil {
		return registry.Registry{}, nil, err
	}
	f, err := FlatFields(r.Kind, d.Username, d.Password)
	if err != nil {
		return registry.Registry{}, inf, err
	}
	for name, val := range f {
		if r.Fields == nil {
			r.Fields = map[string]string{}
		}
		r.Fields[name] = val
	}
	return r, inf, nil
}

// FromDocument turns the documents' flat shape into a validated record: the type, when
// given, is parsed (ParseKind) and wins; when empty it is inferred from the URL (Infer),
// and the returned Inference says so (nil when the type was given). Every problem comes
// back at once in a *ValidationError, each named as the document names it ("password",
// not GHCR's "token").
func FromDocument(d Document) (registry.Registry, *Inference, error) {
	r := registry.Registry{ID: d.ID, Name: d.Name, Server: d.URL, Default: d.Default}
	var v registry.Problems
	if d.Type != "" {
		k, err := registry.ParseKind(d.Type)
		if err != nil {
			v.Add(err)
		}
		r.Kind = k
	}
	var inf *Inference
	if v.Len() == 0 {
		var err error
		inf, err = Infer(&r)
		v.Add(err)
	}
	if r.Kind == "" {
		if strings.TrimSpace(d.Name) == "" {
			v.Add(&registry.FieldError{Field: "name", Reason: "is empty", Hint: "give the registry a name to show in lists"})
		}
		return registry.Registry{}, inf, v.Err(r.Kind)
	}
	f, err := FlatFields(r.Kind, d.Username, d.Password)
	v.Add(err)
	for name, val := range f {
		if r.Fields == nil {
			r.Fields = map[string]string{}
		}
		r.Fields[name] = val
	}
	if err := r.Validate(); err != nil {
		for _, fe := range err.(*registry.ValidationError).Errors {
			if flat := FlatFieldOf(r.Kind, fe.Field); flat != "" {
				c := *fe
				c.Field = flat
				fe = &c
			}
			v.Add(fe)
		}
	}
	if err := v.Err(r.Kind); err != nil {
		return registry.Registry{}, inf, err
	}
	return r, inf, nil
}

// MaxSize bounds the body Decode reads (a service account key is a few KiB, a
// CA bundle at most a few hundred).
const MaxSize = 1 << 20

// The keys of each JSON shape Decode reads.
var (
	documentKeys = []string{"id", "name", "type", "url", "username", "password", "default", "tls"}
	recordKeys   = []string{"id", "name", "kind", "server", "fields", "tls", "default", "owner", "version", "mirror",
		"scope", "credentialsExpire", "created", "updated", "redacted"}
	// keys only the documents' shape has, and keys only ours has: one of each is a mix.
	documentOnly = []string{"type", "url", "username", "password"}
	recordOnly   = []string{"kind", "server", "fields"}
)

// Decode reads one registry from a JSON body (an API request), in either shape:
//
//   - ours, the JSON of Registry: {"name", "kind", "server", "fields": {...}, "tls", ...}
//   - the product documents' flat one (Document): {"name", "url", "username", "password"},
//     "type" optional
//
// A missing kind or type is inferred from the server or url (Infer) and the Inference says
// so (nil when the body named it); an explicit one always wins. The record is not
// validated: Catalog.Add, Update and TestDraft do that (an update may leave a secret blank to
// keep the stored one). A body that is neither shape gets every problem at once in a
// *ValidationError: each unknown key (with the known key it was likely meant to be), a mix
// of the two shapes, and what the type or url lacks. No error quotes a value of the body.
func Decode(r io.Reader) (registry.Registry, *Inference, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return registry.Registry{}, nil, &registry.Error{Op: "decode registry", Err: fmt.Errorf("cannot read the body: %w", err)}
	}
	if len(data) > MaxSize {
		return registry.Registry{}, nil, &registry.FieldError{Field: "(body)", Reason: "is larger than 1 MiB"}
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return registry.Registry{}, nil, &registry.FieldError{Field: "(body)", Reason: "is not a JSON object",
			Hint: `send {"name", "url", "username", "password"} or {"name", "kind", "server", "fields": {...}}`}
	}
	var v registry.Problems
	has := func(set []string) []string {
		var out []string
		for _, k := range set {
			if _, ok := keys[k]; ok {
				out = append(out, k)
			}
		}
		return out
	}
	doc, rec := has(documentOnly), has(recordOnly)
	if len(doc) > 0 && len(rec) > 0 {
		v.Add(&registry.FieldError{Field: doc[0], Reason: "is a key of the documents' shape, and " + rec[0] + " one of ours",
			Hint: "send name, url, username, password (type optional) or name, kind, server, fields: not a mix"})
	}
	known := recordKeys
	if len(doc) > 0 {
		known = documentKeys
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if slices.Contains(documentKeys, k) || slices.Contains(recordKeys, k) {
			continue
		}
		hint := "known keys: " + strings.Join(known, ", ")
		if near := suggest.Nearest(k, append(append([]string(nil), documentKeys...), recordKeys...)); near != "" {
			hint = "did you mean " + near + "? " + hint
		}
		v.Unknown(&registry.FieldError{Field: quoteKey(k), Reason: "is not a key of a registry", Hint: hint})
	}

	var out registry.Registry
	var inf *Inference
	if len(doc) > 0 && len(rec) == 0 {
		var d Document
		if err := strictJSON(data, &d); err != nil {
			v.Add(err)
		} else if out, inf, err = d.Record(); err != nil {
			v.Add(err)
		}
	} else {
		if err := strictJSON(data, &out); err != nil {
			v.Add(err)
		} else if out.Kind == "" {
			if inf, err = Infer(&out); err != nil {
				var fe *registry.FieldError
				if errors.As(err, &fe) && fe.Field == "type" {
					fe = &registry.FieldError{Field: "kind", Reason: "is missing and there is no server to infer it from", Hint: "give server (e.g. ghcr.io) or kind (e.g. ghcr)"}
					err = fe
				}
				v.Add(err)
			}
		}
	}
	if err := v.Err(out.Kind); err != nil {
		return registry.Registry{}, nil, err
	}
	return out, inf, nil
}

// strictJSON decodes data into v, known keys only (unknown ones are reported by the
// caller), with a type error naming the key and not the value.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return &registry.FieldError{Field: te.Field, Reason: "must be " + jsonKind(te.Type.Kind().String())}
		}
		return &registry.FieldError{Field: "(body)", Reason: "is not a registry"}
	}
	return nil
}

func jsonKind(k string) string {
	switch k {
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "int64", "int":
		return "a number"
	}
	return "of another type"
}

// quoteKey bounds and escapes a key the body sent, for an error.
func quoteKey(k string) string {
	q := strconv.Quote(untrusted.Limit(k, 64))
	if q[1:len(q)-1] == k {
		return k
	}
	return q
}
