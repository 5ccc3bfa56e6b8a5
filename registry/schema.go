package registry

import (
	"strconv"
	"strings"
	"time"
)

// The form schema: every input of the "add registry" form of every kind, as JSON-ready
// data a UI renders without knowing the kinds (json.Marshal of a Schema works; Field.Check
// stays out of it). Input names are the names Validate's *FieldError uses, so a UI puts
// each problem under its input; FromForm reads the values a form posts back into a
// Registry, and FormValues fills a form from one.
//
// Names: "type", "name", "url", "credentialsExpire", "default", "tls.mode", "tls.caBundle",
// "tls.systemRoots", "scope.teams", "scope.projects", "scope.namespaces", "mirror.of",
// "mirror.order", "mirror.fallback", and each credential field by its own name (the keys of
// Registry.Fields, as in the seeds: "username", "token", "accessKeyId", ...).

// SchemaVersion is the version of the schema's JSON shape; it changes only incompatibly.
const SchemaVersion = 1

// Schema is the form of every kind.
type Schema struct {
	Version int          `json:"version"`
	Kinds   []KindSchema `json:"kinds"`
}

// KindSchema is the form of one kind: its inputs in form order, grouped, and the rules
// across them.
type KindSchema struct {
	Kind          Kind    `json:"kind"`                    // the stored value: "ghcr", "dockerhub", ...
	Type          string  `json:"type"`                    // the type key users and the seeds write: "GHCR", "Docker", ...
	Label         string  `json:"label"`                   // "GitHub Container Registry"
	Help          string  `json:"help"`                    // one line on what the kind is for
	DefaultServer string  `json:"defaultServer,omitempty"` // the server a record without url gets ("" when it must be given or depends on a field)
	Expiring      bool    `json:"expiring"`                // credentials are short-lived tokens regcred refreshes
	Groups        []Group `json:"groups"`
	Fields        []Field `json:"fields"`
	Rules         []Rule  `json:"rules,omitempty"`
}

// Group is a section of the form. An optional group (the mirror relation) may be left out
// as a whole; its inputs are required only as their RequiredWhen says.
type Group struct {
	Name     string `json:"name"` // "registry", "credentials", "tls", "mirror"
	Label    string `json:"label"`
	Help     string `json:"help"`
	Optional bool   `json:"optional,omitempty"`
}

// The form's groups.
const (
	GroupRegistry    = "registry"
	GroupCredentials = groupCredentials
	GroupTLS         = "tls"
	GroupScope       = "scope"
	GroupMirror      = "mirror"
)

var groups = []Group{
	{Name: GroupRegistry, Label: "Registry", Help: "what the registry is called and where it is"},
	{Name: GroupCredentials, Label: "Credentials", Help: "what regcred logs in with; secrets are never shown back"},
	{Name: GroupTLS, Label: "Connection", Help: "how regcred talks TLS to the registry"},
	{Name: GroupScope, Label: "Who may use it", Optional: true,
		Help: "limit the registry to some teams, projects or namespaces; empty: everyone"},
	{Name: GroupMirror, Label: "Mirror of another registry", Optional: true,
		Help: "make this registry a pull-through cache of another one: nodes pull that registry's images from here first"},
}

// FormSchema returns the form of every kind, in the order Kinds lists them.
func FormSchema() Schema {
	s := Schema{Version: SchemaVersion}
	for _, k := range Kinds() {
		s.Kinds = append(s.Kinds, k.Schema())
	}
	return s
}

// TypeKey is the kind's type key as users write it (the seeds' "Type Key" column): "GHCR",
// "Docker", "ECR", "ACR", "GCR", "GAR", "Quay", "Custom", "Public", "Harbor", "Kubernetes".
// ParseKind reads it back.
func (k Kind) TypeKey() string {
	switch k {
	case KindDockerHub:
		return "Docker"
	case KindGHCR, KindECR, KindACR, KindGCR, KindGAR:
		return strings.ToUpper(string(k))
	case KindQuay, KindHarbor, KindCustom, KindPublic, KindKubernetes:
		return strings.ToUpper(string(k[:1])) + string(k[1:])
	}
	return string(k)
}

var kindHelp = map[Kind]string{
	KindDockerHub:  "Docker Hub with a username and a personal access token",
	KindGHCR:       "GitHub Container Registry (ghcr.io) with a username and a personal access token",
	KindQuay:       "Red Hat Quay (quay.io) with a robot account",
	KindHarbor:     "a Harbor registry at its own URL, with a robot account",
	KindCustom:     "any registry docker login works with: its URL, and a username and password (or none)",
	KindPublic:     "public images, pulled without credentials",
	KindECR:        "Amazon ECR: regcred trades AWS keys (or the node's role) for 12-hour tokens and renews them",
	KindACR:        "Azure Container Registry with a service principal, a token or the admin user",
	KindGCR:        "Google Container Registry with a service account key",
	KindGAR:        "Google Artifact Registry (REGION-docker.pkg.dev) with a service account key",
	KindKubernetes: "a registry that accepts Kubernetes ServiceAccount tokens; regcred requests short-lived ones",
}

// Schema returns the kind's form: the common inputs and the kind's credential fields, in
// form order. Check functions are kept (Validate uses them); they do not reach JSON.
func (k Kind) Schema() KindSchema {
	ks := KindSchema{Kind: k, Type: k.TypeKey(), Label: k.Label(), Help: kindHelp[k], Expiring: k.Expiring(),
		DefaultServer: k.DefaultServer(nil), Groups: append([]Group(nil), groups...), Rules: k.Rules()}
	if len(kindFields[k]) == 0 {
		ks.Groups = append(ks.Groups[:1:1], ks.Groups[2:]...) // no credentials group
	}
	ks.Fields = append(ks.Fields, typeField(), nameField(), k.urlField())
	for _, f := range kindFields[k] {
		f.Group = GroupCredentials
		ks.Fields = append(ks.Fields, f)
	}
	if len(kindFields[k]) > 0 && k != KindKubernetes { // a saved credential's own end of life
		ks.Fields = append(ks.Fields, credentialsExpireField)
	}
	ks.Fields = append(ks.Fields, commonTail...)
	return ks
}

// formOrder is the names of the kind's inputs in form order.
func (k Kind) formOrder() []string {
	var out []string
	for _, f := range k.Schema().Fields {
		out = append(out, f.Name)
	}
	return out
}

func typeField() Field {
	f := Field{Name: "type", Label: "Registry type", Type: InputSelect, Required: true, Group: GroupRegistry,
		Help: "the kind of registry: it decides the credential fields", Default: string(KindDockerHub)}
	for _, k := range Kinds() {
		f.Options = append(f.Options, Choice{Value: string(k), Label: k.Label(), Help: kindHelp[k]})
	}
	return f
}

func nameField() Field {
	return Field{Name: "name", Label: "Name", Type: InputText, Required: true, Group: GroupRegistry,
		Help: "shown in lists and pickers, e.g. the team or environment it serves", Placeholder: "Production GHCR", Example: "Docker Hub"}
}

func (k Kind) urlField() Field {
	f := Field{Name: "url", Label: "Registry URL", Type: InputText, Required: k.NeedsServer(), Group: GroupRegistry,
		Placeholder: "registry.example.com", Example: "https://registry.example.com"}
	switch k {
	case KindHarbor, KindCustom, KindKubernetes:
		f.Help = "the registry's host, with a port and https:// or http:// when needed; never a username or password"
	case KindECR:
		f.Help = "leave empty for every private registry of the region; or one registry's host, a FIPS or an ECR Public host"
		f.Placeholder, f.Example = "*.dkr.ecr.REGION.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	case KindACR:
		f.Help = "leave empty: the login server is the registry's host"
		f.Placeholder, f.Example = "(the login server)", "myregistry.azurecr.io"
	case KindGAR:
		f.Help = "leave empty for REGION-docker.pkg.dev; add a path to scope the credentials to a project"
		f.Placeholder, f.Example = "REGION-docker.pkg.dev", "europe-west1-docker.pkg.dev/my-project"
	default:
		def := k.DefaultServer(nil)
		f.Help = "leave empty for " + def + "; add a path to use these credentials only for it (" + def + "/myorg)"
		f.Placeholder, f.Example = def, def+"/myorg"
	}
	return f
}

var credentialsExpireField = Field{Name: "credentialsExpire", Label: "Credentials expire on", Type: InputDate, Group: GroupCredentials,
	Help:        "when the token or robot account stops working, for a reminder before it does; empty when it does not expire",
	Placeholder: "YYYY-MM-DD", Example: "2026-12-31"}

var commonTail = []Field{
	{Name: "default", Label: "Set as default registry", Type: InputCheckbox, Group: GroupRegistry,
		Help: "preselect this registry where a registry is picked; only one registry is the default"},
	{Name: "tls.mode", Label: "TLS", Type: InputSelect, Group: GroupTLS, Default: string(TLSSecure),
		Help: "how the registry's certificate is checked",
		Options: []Choice{
			{Value: string(TLSSecure), Label: "Allow only secure connection", Help: "https, verified against the system's trusted CAs"},
			{Value: string(TLSCustomCA), Label: "Allow secure connection with CA certificate", Help: "https, verified against the CA certificate below"},
			{Value: string(TLSInsecure), Label: "Allow insecure connection", Help: "no certificate check, or plain http: only for registries you cannot fix"},
		}},
	{Name: "tls.caBundle", Label: "CA certificate", Type: InputTextarea, Group: GroupTLS,
		RequiredWhen: []Condition{{Field: "tls.mode", Equals: string(TLSCustomCA)}},
		ShowWhen:     []Condition{{Field: "tls.mode", Equals: string(TLSCustomCA)}},
		Help:         "the PEM certificate of the CA that signed the registry's certificate (ca.crt)",
		Placeholder:  "-----BEGIN CERTIFICATE-----"},
	{Name: "tls.systemRoots", Label: "Trust the system CAs too", Type: InputCheckbox, Group: GroupTLS,
		ShowWhen: []Condition{{Field: "tls.mode", Equals: string(TLSCustomCA)}},
		Help:     "accept certificates from the system's trusted CAs as well as the one above"},
	{Name: "scope.teams", Label: "Teams", Type: InputList, Group: GroupScope,
		Help: "only members of these teams may use the registry; names or patterns such as team-*", Example: "payments, platform-*"},
	{Name: "scope.projects", Label: "Projects", Type: InputList, Group: GroupScope,
		Help: "only deployments of these projects may use it; names or patterns", Example: "shop"},
	{Name: "scope.namespaces", Label: "Namespaces", Type: InputList, Group: GroupScope,
		Help: "only these Kubernetes namespaces get its pull secret; names or patterns", Example: "prod-*"},
	{Name: "mirror.of", Label: "Mirror of", Type: InputText, Group: GroupMirror,
		RequiredWhen: []Condition{set("mirror.order"), set("mirror.fallback")},
		Help:         "the registry this one mirrors: a saved registry's ID, or a host such as docker.io",
		Placeholder:  "docker.io", Example: "registry.k8s.io"},
	{Name: "mirror.order", Label: "Order", Type: InputNumber, Group: GroupMirror,
		ShowWhen: []Condition{set("mirror.of")},
		Help:     "with several mirrors of one registry, lower is tried first", Placeholder: "0"},
	{Name: "mirror.fallback", Label: "Fall back to the upstream", Type: InputCheckbox, Group: GroupMirror,
		ShowWhen: []Condition{set("mirror.of")},
		Help:     "pull from the upstream itself when every mirror fails; off for air-gapped nodes"},
}

// FromForm reads the values a form posts (schema names to values; see Kind.Schema) into a
// Registry: "type" takes a kind or its type key ("GHCR", "Docker"), checkboxes take
// true/false, on/off, 1/0 or empty, and every other name is a credential field (empty ones
// are left out). It does not Validate: call Validate (or let the Catalog do it) to learn
// what is missing. Its errors are a *ValidationError for values that cannot be read at all.
func FromForm(values map[string]string) (Registry, error) {
	var r Registry
	var v validation
	checkbox := func(name string) bool {
		s := strings.ToLower(strings.TrimSpace(values[name]))
		switch s {
		case "", "false", "off", "0", "no":
			return false
		case "true", "on", "1", "yes":
			return true
		}
		v.add(&FieldError{Field: name, Reason: "is not a checkbox value", Hint: "true or false"})
		return false
	}
	if t := values["type"]; t != "" {
		k, err := ParseKind(t)
		v.add(err)
		r.Kind = k
	} else {
		v.add(&FieldError{Field: "type", Reason: "is empty", Hint: "choose the registry type"})
	}
	r.Name = values["name"]
	r.Server = strings.TrimSpace(values["url"])
	r.Default = checkbox("default")
	if d := strings.TrimSpace(values["credentialsExpire"]); d != "" {
		t, err := parseDate(d)
		if err != nil {
			v.add(&FieldError{Field: "credentialsExpire", Reason: "is not a date", Hint: "YYYY-MM-DD, or an RFC 3339 time"})
		}
		r.CredentialsExpire = t
	}
	r.Scope = Scope{Teams: list(values["scope.teams"]), Projects: list(values["scope.projects"]), Namespaces: list(values["scope.namespaces"])}
	r.TLS = TLS{Mode: TLSMode(values["tls.mode"]), CABundle: values["tls.caBundle"], SystemRoots: checkbox("tls.systemRoots")}
	if values["mirror.of"] != "" || values["mirror.order"] != "" || checkbox("mirror.fallback") {
		m := &Mirror{Of: values["mirror.of"], Fallback: checkbox("mirror.fallback")}
		if o := strings.TrimSpace(values["mirror.order"]); o != "" {
			n, err := strconv.Atoi(o)
			if err != nil {
				v.add(&FieldError{Field: "mirror.order", Reason: "is not a whole number", Hint: "0 is tried first, then 1, 2, ..."})
			}
			m.Order = n
		}
		r.Mirror = m
	}
	for name, val := range values {
		if commonInput(name) || val == "" {
			continue
		}
		if r.Fields == nil {
			r.Fields = map[string]string{}
		}
		r.Fields[name] = val
	}
	_ = r.ParseServer() // a url that does not parse is Validate's to report
	return r, v.result(r.Kind)
}

// FormValues returns the values that fill r's form (FromForm's inverse), leaving out every
// secret field: a form never gets a secret back. Empty values are left out.
func (r Registry) FormValues() map[string]string {
	out := map[string]string{"type": string(r.Kind), "name": r.Name}
	put := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	put("url", r.Redacted().Server)
	if r.Default {
		out["default"] = "true"
	}
	if !r.CredentialsExpire.IsZero() {
		out["credentialsExpire"] = r.CredentialsExpire.UTC().Format(time.RFC3339)
	}
	put("scope.teams", strings.Join(r.Scope.Teams, ", "))
	put("scope.projects", strings.Join(r.Scope.Projects, ", "))
	put("scope.namespaces", strings.Join(r.Scope.Namespaces, ", "))
	put("tls.mode", string(r.TLS.Mode))
	put("tls.caBundle", r.TLS.CABundle)
	if r.TLS.SystemRoots {
		out["tls.systemRoots"] = "true"
	}
	if m := r.Mirror; m != nil {
		put("mirror.of", m.Of)
		if m.Order != 0 {
			out["mirror.order"] = strconv.Itoa(m.Order)
		}
		if m.Fallback {
			out["mirror.fallback"] = "true"
		}
	}
	for k, v := range r.Fields {
		if !r.IsSecretField(k) && !commonInput(k) {
			put(k, v)
		}
	}
	return out
}

// commonInput reports whether name is one of the inputs every kind has.
func commonInput(name string) bool {
	switch name {
	case "type", "name", "url", "default", "credentialsExpire", "tls.mode", "tls.caBundle", "tls.systemRoots",
		"scope.teams", "scope.projects", "scope.namespaces", "mirror.of", "mirror.order", "mirror.fallback":
		return true
	}
	return false
}

// list reads a list input: entries separated by commas or new lines, trimmed, empty ones
// dropped; nil when there is none.
func list(v string) []string {
	var out []string
	for _, e := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// parseDate reads a date input: YYYY-MM-DD (the end of that day, UTC) or an RFC 3339 time.
func parseDate(s string) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.Add(24*time.Hour - time.Second), nil
	}
	return time.Parse(time.RFC3339, s)
}
