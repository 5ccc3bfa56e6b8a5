package registry

import (
	"fmt"
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
		return "", &FieldError{Field: "type", Reason: fmt.Sprintf("unknown registry type %q", s),
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
			switch {
			case strings.HasPrefix(r, "cn-"):
				return "*.dkr.ecr." + r + ".amazonaws.com.cn"
			case strings.HasPrefix(r, "eusc-"): // the AWS European Sovereign Cloud
				return "*.dkr.ecr." + r + ".amazonaws.eu"
			}
			return "*.dkr.ecr." + r + ".amazonaws.com"
		}
	case KindACR:
		return strings.ToLower(fields["loginServer"])
	}
	return ""
}

// Field describes one credential field of a kind: enough for a platform to render its "add
// registry" form and for Validate to check a record.
type Field struct {
	Name     string // the key in Registry.Fields, as in the seeds: "username", "token", ...
	Label    string // what a form shows
	Help     string // one line of guidance for the form
	Required bool
	Secret   bool               // never shown back, redacted everywhere
	Check    func(string) error // nil when any non-empty value goes; returns a *FieldError
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

var kindFields = map[Kind][]Field{
	KindDockerHub: {
		{Name: "username", Label: "Username", Required: true, Check: checkUsername},
		{Name: "password", Label: "Access token", Required: true, Secret: true,
			Help: "a Docker Hub personal access token (dckr_pat_...), not the account password"},
	},
	KindGHCR: {
		{Name: "username", Label: "GitHub username", Required: true, Check: checkUsername},
		{Name: "token", Label: "Personal access token", Required: true, Secret: true,
			Help: "a classic or fine-grained token with read:packages (write:packages to push)"},
	},
	KindQuay: {
		{Name: "username", Label: "Robot account", Required: true, Check: checkUsername,
			Help: "a robot account, org+name"},
		{Name: "token", Label: "Robot token", Required: true, Secret: true},
	},
	KindHarbor: {
		{Name: "username", Label: "Username", Required: true, Check: checkUsername,
			Help: `a robot account such as robot$project+name`},
		{Name: "password", Label: "Password", Required: true, Secret: true},
	},
	KindCustom: {
		{Name: "username", Label: "Username", Check: checkUsername,
			Help: "leave empty for a registry that allows anonymous pulls"},
		{Name: "password", Label: "Password", Secret: true},
	},
	KindPublic: {},
	KindECR: {
		{Name: "region", Label: "AWS region", Required: true, Check: checkAWSRegion},
		{Name: "accessKeyId", Label: "Access key ID", Check: checkAccessKeyID,
			Help: "leave empty to use the default AWS credential chain or the node's role"},
		{Name: "secretAccessKey", Label: "Secret access key", Secret: true, Check: checkSecretAccessKey},
		{Name: "sessionToken", Label: "Session token", Secret: true,
			Help: "only for temporary (ASIA...) keys"},
		{Name: "roleArn", Label: "Role to assume", Check: checkRoleARN,
			Help: "optional: arn:aws:iam::ACCOUNT:role/NAME"},
	},
	KindACR: {
		{Name: "loginServer", Label: "Login server", Required: true, Check: checkACRLoginServer,
			Help: "NAME.azurecr.io"},
		{Name: "username", Label: "Username / client ID", Required: true, Check: checkUsername,
			Help: "a service principal's application (client) ID, a token name or the admin user"},
		{Name: "password", Label: "Password / client secret", Required: true, Secret: true},
		{Name: "tenant", Label: "Tenant ID", Check: checkTenant,
			Help: "set it to exchange an Azure AD token for an ACR refresh token"},
	},
	KindGCR: {
		{Name: "serviceAccountKey", Label: "Service account key (JSON)", Required: true,
			Secret: true, Check: CheckServiceAccountKey},
	},
	KindGAR: {
		{Name: "serviceAccountKey", Label: "Service account key (JSON)", Required: true,
			Secret: true, Check: CheckServiceAccountKey},
		{Name: "region", Label: "Location", Required: true, Check: checkGARRegion,
			Help: "a region such as europe-west1 or a multi-region: us, europe, asia"},
	},
	KindKubernetes: {
		{Name: "serviceAccount", Label: "ServiceAccount", Required: true, Check: checkServiceAccountRef,
			Help: "namespace/name of the ServiceAccount whose token the registry accepts"},
		{Name: "audience", Label: "Audience", Help: "the audience the registry expects; empty for the API server's"},
		{Name: "expirationSeconds", Label: "Token lifetime (seconds)", Check: checkExpirationSeconds,
			Help: "at least 600; default 86400"},
	},
}

func init() {
	// Keep every kind's field list sorted by form order as written; assert no duplicates.
	for k, fs := range kindFields {
		seen := map[string]bool{}
		for _, f := range fs {
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
