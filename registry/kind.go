package registry

import (
	"sort"
	"strings"
)

// Kind is the type of a saved registry. It decides the credential fields the user fills in
// (Fields), the server a record gets when it names none (DefaultServer), and which provider
// turns the fields into Credentials.
type Kind string

// The kinds. The string values are stable: they are stored in records and files.
const (
	KindDockerHub  Kind = "dockerhub"
	KindGHCR       Kind = "ghcr"
	KindQuay       Kind = "quay"
	KindHarbor     Kind = "harbor"
	KindCustom     Kind = "custom"
	KindPublic     Kind = "public"
	KindECR        Kind = "ecr"
	KindACR        Kind = "acr"
	KindGCR        Kind = "gcr"
	KindGAR        Kind = "gar"
	KindKubernetes Kind = "kubernetes"
)

// DockerHubServer is the key Docker Hub's credentials live under in a docker config.
const DockerHubServer = "https://index.docker.io/v1/"

// Kinds returns every kind, in the order a form lists them.
func Kinds() []Kind {
	return []Kind{KindDockerHub, KindGHCR, KindQuay, KindHarbor, KindCustom, KindPublic,
		KindECR, KindACR, KindGCR, KindGAR, KindKubernetes}
}

var kindAliases = map[string]Kind{
	"dockerhub": KindDockerHub, "docker": KindDockerHub, "docker hub": KindDockerHub,
	"docker.io": KindDockerHub, "docker-hub": KindDockerHub,
	"ghcr": KindGHCR, "github": KindGHCR, "github container registry": KindGHCR,
	"quay": KindQuay, "red hat quay": KindQuay, "quay.io": KindQuay,
	"harbor": KindHarbor,
	"custom": KindCustom, "self-hosted": KindCustom, "selfhosted": KindCustom,
	"others": KindCustom, "other": KindCustom, "private": KindCustom,
	"public": KindPublic, "anonymous": KindPublic, "none": KindPublic,
	"ecr": KindECR, "amazon ecr": KindECR, "aws": KindECR, "aws ecr": KindECR,
	"acr": KindACR, "azure": KindACR, "azure container registry": KindACR,
	"gcr": KindGCR, "google container registry": KindGCR,
	"gar": KindGAR, "artifact registry": KindGAR, "google artifact registry": KindGAR,
	"kubernetes": KindKubernetes, "k8s": KindKubernetes, "kubernetes token": KindKubernetes,
	"serviceaccount": KindKubernetes,
}

// ParseKind reads a kind from its name or an alias, case-insensitively: "GHCR", "Docker",
// "Docker Hub", "ECR", "Custom", "Others", "Kubernetes", ...
func ParseKind(s string) (Kind, error) {
	k, ok := kindAliases[strings.ToLower(strings.TrimSpace(s))]
	if !ok {
		names := make([]string, 0, len(Kinds()))
		for _, k := range Kinds() {
			names = append(names, string(k))
		}
		return "", &FieldError{Field: "type", Reason: "unknown registry type " + quote(s),
			Hint: "use one of " + strings.Join(names, ", ")}
	}
	return k, nil
}

// Label is the kind's human name.
func (k Kind) Label() string {
	switch k {
	case KindDockerHub:
		return "Docker Hub"
	case KindGHCR:
		return "GitHub Container Registry"
	case KindQuay:
		return "Red Hat Quay"
	case KindHarbor:
		return "Harbor"
	case KindCustom:
		return "Custom / self-hosted"
	case KindPublic:
		return "Public (no auth)"
	case KindECR:
		return "Amazon ECR"
	case KindACR:
		return "Azure Container Registry"
	case KindGCR:
		return "Google Container Registry"
	case KindGAR:
		return "Google Artifact Registry"
	case KindKubernetes:
		return "Kubernetes token registry"
	}
	return string(k)
}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, x := range Kinds() {
		if x == k {
			return true
		}
	}
	return false
}

// Expiring reports whether the kind's credentials are short-lived tokens that a provider
// refreshes (ECR, ACR with a tenant, GCR/GAR access tokens, Kubernetes tokens). A kind that
// may or may not expire depending on its fields reports true.
func (k Kind) Expiring() bool {
	switch k {
	case KindECR, KindACR, KindGCR, KindGAR, KindKubernetes:
		return true
	}
	return false
}

// DefaultServer is the server a record of this kind gets when it names none; "" when the
// user must give one. For GAR and ECR it depends on the region field.
func (k Kind) DefaultServer(fields map[string]string) string {
	switch k {
	case KindDockerHub, KindPublic:
		return "docker.io"
	case KindGHCR:
		return "ghcr.io"
	case KindQuay:
		return "quay.io"
	case KindGCR:
		return "gcr.io"
	case KindGAR:
		if r := fields["region"]; r != "" {
			return r + "-docker.pkg.dev"
		}
	case KindECR:
		if r := fields["region"]; r != "" {
			suffix := "amazonaws.com"
			if p, ok := AWSPartition(r); ok { // China, the European Sovereign Cloud, isolated regions
				suffix = AWSDNSSuffix(p)
			}
			return "*.dkr.ecr." + r + "." + suffix
		}
	case KindACR:
		return strings.ToLower(fields["loginServer"])
	}
	return ""
}

// Field describes one input of the "add registry" form: enough for a platform to render it
// and for Validate to check a record. Kind.Fields returns a kind's credential fields;
// Kind.Schema (schema.go) returns every input of the form, the common ones (name, url, TLS,
// default, mirror) included. The JSON form (json.Marshal) leaves Check out.
type Field struct {
	Name         string      `json:"name"`                   // the key in Registry.Fields, as in the seeds: "username", "token", ...; "url", "tls.mode", ... for the common inputs
	Label        string      `json:"label"`                  // what a form shows
	Help         string      `json:"help"`                   // one line of guidance; every field has one
	Type         InputType   `json:"type"`                   // the input to render
	Required     bool        `json:"required"`               // always required
	RequiredWhen []Condition `json:"requiredWhen,omitempty"` // required when any of these holds
	ShowWhen     []Condition `json:"showWhen,omitempty"`     // shown only when any of these holds (always when empty)
	Secret       bool        `json:"secret,omitempty"`       // never shown back, redacted everywhere
	Group        string      `json:"group,omitempty"`        // the form section: see Group
	Placeholder  string      `json:"placeholder,omitempty"`  // shown in the empty input
	Example      string      `json:"example,omitempty"`      // a valid value, for docs and help
	Default      string      `json:"default,omitempty"`      // the value a new form starts with
	Options      []Choice    `json:"options,omitempty"`      // the choices of a select
	// Check validates a non-empty value; nil when any non-empty value goes. It returns a
	// *FieldError naming the field and never echoing the value.
	Check func(string) error `json:"-"`
}

// InputType is the form control a field is rendered with.
type InputType string

// The input types.
const (
	InputText     InputType = "text"
	InputPassword InputType = "password" // a secret: masked, never filled back in
	InputTextarea InputType = "textarea" // multi-line (a key file, a PEM bundle)
	InputSelect   InputType = "select"   // one of Options
	InputCheckbox InputType = "checkbox" // "true" or "" (false)
	InputNumber   InputType = "number"
	InputDate     InputType = "date" // YYYY-MM-DD
	InputList     InputType = "list" // several values: a tag input, or one per line (FromForm also splits on commas)
)

// Choice is one option of a select.
type Choice struct {
	Value string `json:"value"`
	Label string `json:"label"`
	Help  string `json:"help,omitempty"`
}

// Condition is a state of another field: Set (it has a value) or Equals (it has that value).
type Condition struct {
	Field  string `json:"field"`
	Set    bool   `json:"set,omitempty"`
	Equals string `json:"equals,omitempty"`
}

// holds reports whether the condition is true of the values (schema names to values).
func (c Condition) holds(values func(string) string) bool {
	v := values(c.Field)
	if c.Set {
		return v != ""
	}
	return v == c.Equals
}

// Fields returns the kind's credential fields in form order. The slice is a copy.
func (k Kind) Fields() []Field {
	return append([]Field(nil), kindFields[k]...)
}

// Field returns the named field of the kind.
func (k Kind) Field(name string) (Field, bool) {
	for _, f := range kindFields[k] {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// NeedsServer reports whether a record of this kind must carry its own server URL.
func (k Kind) NeedsServer() bool {
	switch k {
	case KindHarbor, KindCustom, KindKubernetes:
		return true
	}
	return false
}

// set is the condition "field has a value".
func set(field string) Condition { return Condition{Field: field, Set: true} }

const groupCredentials = "credentials"

var kindFields = map[Kind][]Field{
	KindDockerHub: {
		{Name: "username", Label: "Username", Type: InputText, Required: true, Check: checkUsername,
			Help: "your Docker Hub user or organization name", Placeholder: "myuser"},
		{Name: "password", Label: "Access token", Type: InputPassword, Required: true, Secret: true,
			Help: "a Docker Hub personal access token (dckr_pat_...), not the account password", Placeholder: "dckr_pat_..."},
	},
	KindGHCR: {
		{Name: "username", Label: "GitHub username", Type: InputText, Required: true, Check: checkUsername,
			Help: "the GitHub user (or organization) the token belongs to", Placeholder: "my-github-user"},
		{Name: "token", Label: "Personal access token", Type: InputPassword, Required: true, Secret: true,
			Help: "a classic or fine-grained token with read:packages (write:packages to push)", Placeholder: "ghp_..."},
	},
	KindQuay: {
		{Name: "username", Label: "Robot account", Type: InputText, Required: true, Check: checkUsername,
			Help: "a robot account, org+name", Placeholder: "myorg+puller", Example: "myorg+puller"},
		{Name: "token", Label: "Robot token", Type: InputPassword, Required: true, Secret: true,
			Help: "the robot account's token, from the organization's Robot Accounts page"},
	},
	KindHarbor: {
		{Name: "username", Label: "Username", Type: InputText, Required: true, Check: checkUsername,
			Help: "a robot account such as robot$project+name", Placeholder: "robot$project+puller", Example: "robot$library+puller"},
		{Name: "password", Label: "Password", Type: InputPassword, Required: true, Secret: true,
			Help: "the robot account's secret (shown once when the robot is created)"},
	},
	KindCustom: {
		{Name: "username", Label: "Username", Type: InputText, Check: checkUsername, RequiredWhen: []Condition{set("password")},
			Help: "leave empty for a registry that allows anonymous pulls", Placeholder: "deploy"},
		{Name: "password", Label: "Password", Type: InputPassword, Secret: true, RequiredWhen: []Condition{set("username")},
			Help: "the password or token of the username; empty with an empty username"},
	},
	KindPublic: {},
	KindECR: {
		{Name: "region", Label: "AWS region", Type: InputText, Required: true, Check: checkAWSRegion,
			Help: "the region of the registry, e.g. us-east-1", Placeholder: "us-east-1", Example: "eu-west-1"},
		{Name: "accessKeyId", Label: "Access key ID", Type: InputText, Check: checkAccessKeyID,
			RequiredWhen: []Condition{set("secretAccessKey"), set("sessionToken")},
			Help:         "leave empty to use the default AWS credential chain or the node's role", Placeholder: "AKIA...", Example: "AKIAIOSFODNN7EXAMPLE"},
		{Name: "secretAccessKey", Label: "Secret access key", Type: InputPassword, Secret: true, Check: checkSecretAccessKey,
			RequiredWhen: []Condition{set("accessKeyId"), set("sessionToken")},
			Help:         "the secret of the access key ID: give both, or neither"},
		{Name: "sessionToken", Label: "Session token", Type: InputPassword, Secret: true,
			Help: "only for temporary (ASIA...) keys"},
		{Name: "roleArn", Label: "Role to assume", Type: InputText, Check: checkRoleARN,
			Help: "optional: an IAM role to assume before asking for the token", Placeholder: "arn:aws:iam::ACCOUNT:role/NAME", Example: "arn:aws:iam::123456789012:role/ecr-puller"},
	},
	KindACR: {
		{Name: "loginServer", Label: "Login server", Type: InputText, Required: true, Check: checkACRLoginServer,
			Help: "the registry's login server, without https://", Placeholder: "myregistry.azurecr.io", Example: "myregistry.azurecr.io"},
		{Name: "username", Label: "Username / client ID", Type: InputText, Required: true, Check: checkUsername,
			Help: "a service principal's application (client) ID, a token name or the admin user", Example: "00000000-0000-0000-0000-000000000000"},
		{Name: "password", Label: "Password / client secret", Type: InputPassword, Required: true, Secret: true,
			Help: "the service principal's client secret, the token's password or the admin password"},
		{Name: "tenant", Label: "Tenant ID", Type: InputText, Check: checkTenant,
			Help: "set it to exchange an Azure AD token for an ACR refresh token", Placeholder: "72f988bf-86f1-41af-91ab-2d7cd011db47"},
	},
	KindGCR: {
		{Name: "serviceAccountKey", Label: "Service account key (JSON)", Type: InputTextarea, Required: true,
			Secret: true, Check: CheckServiceAccountKey,
			Help: "the whole JSON key file of a service account with Storage Object Viewer (or Artifact Registry Reader)", Placeholder: `{"type": "service_account", ...}`},
	},
	KindGAR: {
		{Name: "serviceAccountKey", Label: "Service account key (JSON)", Type: InputTextarea, Required: true,
			Secret: true, Check: CheckServiceAccountKey,
			Help: "the whole JSON key file of a service account with Artifact Registry Reader", Placeholder: `{"type": "service_account", ...}`},
		{Name: "region", Label: "Location", Type: InputText, Required: true, Check: checkGARRegion,
			Help: "a region such as europe-west1 or a multi-region: us, europe, asia", Placeholder: "europe-west1", Example: "us-central1"},
	},
	KindKubernetes: {
		{Name: "serviceAccount", Label: "ServiceAccount", Type: InputText, Required: true, Check: checkServiceAccountRef,
			Help: "namespace/name of the ServiceAccount whose token the registry accepts", Placeholder: "namespace/name", Example: "payload/my-pull-sa"},
		{Name: "audience", Label: "Audience", Type: InputText,
			Help: "the audience the registry expects; empty for the API server's", Placeholder: "registry.example.com"},
		{Name: "expirationSeconds", Label: "Token lifetime (seconds)", Type: InputNumber, Check: checkExpirationSeconds,
			Help: "at least 600; default 86400", Placeholder: "86400", Example: "3600"},
	},
}

// Rule is a requirement across fields of a kind, in words for the form: the machine form
// is each field's RequiredWhen.
type Rule struct {
	Fields []string `json:"fields"`
	Text   string   `json:"text"`
}

var kindRules = map[Kind][]Rule{
	KindECR: {
		{Fields: []string{"accessKeyId", "secretAccessKey"}, Text: "access key ID and secret access key together, or neither: the default AWS credential chain (environment, node role)"},
		{Fields: []string{"sessionToken", "accessKeyId", "secretAccessKey"}, Text: "a session token goes with the temporary access key ID and secret access key it was issued with"},
	},
	KindCustom: {
		{Fields: []string{"username", "password"}, Text: "username and password together, or neither for anonymous pulls"},
	},
}

// Rules returns the kind's requirements across fields, in words.
func (k Kind) Rules() []Rule { return append([]Rule(nil), kindRules[k]...) }

// ruleText is the first rule's text that names field; "" when none does.
func (k Kind) ruleText(field string) string {
	for _, r := range kindRules[k] {
		for _, f := range r.Fields {
			if f == field {
				return r.Text
			}
		}
	}
	return ""
}

func init() {
	// Keep every kind's field list sorted by form order as written; assert no duplicates.
	for k, fs := range kindFields {
		seen := map[string]bool{}
		for _, f := range fs {
			if f.Help == "" || f.Type == "" || f.Label == "" {
				panic("registry: field " + f.Name + " of kind " + string(k) + " lacks a label, help or input type")
			}
			if seen[f.Name] {
				panic("registry: duplicate field " + f.Name + " in kind " + string(k))
			}
			seen[f.Name] = true
		}
	}
}

// fieldNames returns the kind's field names, sorted, for error hints.
func (k Kind) fieldNames() []string {
	var names []string
	for _, f := range kindFields[k] {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	return names
}
