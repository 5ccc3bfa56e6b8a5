package registry

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"regexp"
	"strconv"
	"strings"

	"github.com/regcred/regcred/internal/untrusted"
)

// The field checks. Each returns a *FieldError naming the field and never echoing a secret.

var (
	accessKeyRE  = regexp.MustCompile(`^(AKIA|ASIA|AIDA|AROA|ANPA|ANVA|APKA)[A-Z2-7]{16}$`)
	secretKeyRE  = regexp.MustCompile(`^[A-Za-z0-9/+=]{40}$`)
	roleARNRE    = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	acrServerRE  = regexp.MustCompile(`^[a-z0-9]{5,50}(-[a-z0-9]{10,20})?\.azurecr\.(io|cn|us)$`)
	garRegionRE  = regexp.MustCompile(`^([a-z]+-[a-z]+[1-9][0-9]?|us|europe|asia)$`)
	tenantRE     = regexp.MustCompile(`^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[a-z0-9][a-z0-9.-]*\.[a-z]{2,})$`)
	dns1123RE    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1123SubRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

func checkUsername(v string) error {
	if strings.TrimSpace(v) != v {
		return &FieldError{Field: "username", Reason: "has leading or trailing spaces", Hint: "remove them"}
	}
	if strings.ContainsAny(v, "\r\n\t") {
		return &FieldError{Field: "username", Reason: "contains a control character"}
	}
	return nil
}

// checkAWSRegion checks the region against the one AWS region table (AWSPartition), the
// one the ECR provider uses too.
func checkAWSRegion(v string) error {
	if _, ok := AWSPartition(v); !ok {
		return &FieldError{Field: "region", Reason: "is not an AWS region", Hint: "e.g. us-east-1, eu-west-3, cn-north-1"}
	}
	return nil
}

func checkAccessKeyID(v string) error {
	if v == "" {
		return nil
	}
	if !accessKeyRE.MatchString(v) {
		return &FieldError{Field: "accessKeyId", Reason: "is not an AWS access key ID",
			Hint: "20 characters starting with AKIA (or ASIA for temporary keys); did you swap it with the secret access key?"}
	}
	return nil
}

func checkSecretAccessKey(v string) error {
	if v == "" {
		return nil
	}
	if !secretKeyRE.MatchString(v) {
		return &FieldError{Field: "secretAccessKey", Reason: "is not an AWS secret access key", Hint: "40 characters of letters, digits, / and +"}
	}
	return nil
}

func checkRoleARN(v string) error {
	if v != "" && !roleARNRE.MatchString(v) {
		return &FieldError{Field: "roleArn", Reason: "is not an IAM role ARN", Hint: "arn:aws:iam::123456789012:role/NAME"}
	}
	return nil
}

func checkACRLoginServer(v string) error {
	if !acrServerRE.MatchString(strings.ToLower(v)) {
		return &FieldError{Field: "loginServer", Reason: "is not an Azure Container Registry login server",
			Hint: "NAME.azurecr.io, without https:// or a path"}
	}
	return nil
}

func checkTenant(v string) error {
	if v != "" && !tenantRE.MatchString(v) {
		return &FieldError{Field: "tenant", Reason: "is not a tenant ID or domain", Hint: "a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47"}
	}
	return nil
}

func checkGARRegion(v string) error {
	if !garRegionRE.MatchString(v) {
		return &FieldError{Field: "region", Reason: "is not an Artifact Registry location",
			Hint: "a region such as us-central1 or europe-west1, or a multi-region: us, europe, asia"}
	}
	return nil
}

func checkServiceAccountRef(v string) error {
	ns, name, ok := strings.Cut(v, "/")
	if !ok || !dns1123RE.MatchString(ns) || len(ns) > 63 || !dns1123SubRE.MatchString(name) || len(name) > 253 {
		return &FieldError{Field: "serviceAccount", Reason: "is not namespace/name (two lowercase DNS names)", Hint: "e.g. payload/my-pull-sa"}
	}
	return nil
}

func checkExpirationSeconds(v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 600 || n > 1<<32 {
		return &FieldError{Field: "expirationSeconds", Reason: "is not a number of seconds of at least 600", Hint: "e.g. 3600; default 86400"}
	}
	return nil
}

// googleCredentialTypes are the "type" values of Google's credential files: safe to name in
// an error, unlike anything else a pasted JSON may hold.
var googleCredentialTypes = map[string]bool{
	"authorized_user": true, "external_account": true, "external_account_authorized_user": true,
	"impersonated_service_account": true, "gdch_service_account": true,
}

// maxQuoted bounds a value quoted in an error.
const maxQuoted = 64

// quote shows, in an error, a value that can never hold a secret (a host, a path, a
// registry type): bounded to maxQuoted runes, escaped (internal/untrusted), in quotes.
// Values of credential fields are never quoted: a secret pasted into the wrong box must not
// come back in an API response or a log.
func quote(v string) string { return strconv.Quote(untrusted.Limit(v, maxQuoted)) }

// ServiceAccountKey is the part of a Google service account key file that regcred uses.
type ServiceAccountKey struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   Secret `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// LogValue redacts the private key for slog (JSON handlers would otherwise encode the
// Secret's real value).
func (k ServiceAccountKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", k.Type), slog.String("project_id", k.ProjectID),
		slog.String("private_key_id", k.PrivateKeyID), slog.String("private_key", k.PrivateKey.String()),
		slog.String("client_email", k.ClientEmail))
}

// ParseServiceAccountKey decodes and checks a Google service account key (the JSON file
// the console downloads): it must be JSON of type service_account with client_email and a
// PEM private key that parses.
func ParseServiceAccountKey(v string) (ServiceAccountKey, error) {
	const field = "serviceAccountKey"
	var k ServiceAccountKey
	if err := json.Unmarshal([]byte(v), &k); err != nil {
		return k, &FieldError{Field: field, Reason: "is not JSON", Hint: "paste the whole key file as downloaded from the Google Cloud console"}
	}
	if k.Type != "" && k.Type != "service_account" {
		// Name the type only when it is one of Google's credential types: the value is
		// whatever was pasted, and a pasted secret must not come back in an error.
		what := "is not a service account key (its type is not service_account)"
		if googleCredentialTypes[k.Type] {
			what = "is a key of type " + k.Type + ", not service_account"
		}
		return k, &FieldError{Field: field, Reason: what, Hint: "create a key for a service account (IAM > Service accounts > Keys) and paste the downloaded JSON file"}
	}
	if k.ClientEmail == "" {
		return k, &FieldError{Field: field, Reason: "has no client_email"}
	}
	if k.PrivateKey == "" {
		return k, &FieldError{Field: field, Reason: "has no private_key"}
	}
	block, _ := pem.Decode([]byte(k.PrivateKey))
	if block == nil {
		return k, &FieldError{Field: field, Reason: "private_key is not PEM", Hint: "the key may have been truncated or its \\n escapes lost; download a new key"}
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		if _, err2 := x509.ParsePKCS1PrivateKey(block.Bytes); err2 != nil {
			return k, &FieldError{Field: field, Reason: "private_key does not parse as an RSA key", Hint: "download a new key"}
		}
	}
	return k, nil
}

// CheckServiceAccountKey is the Field.Check of serviceAccountKey.
func CheckServiceAccountKey(v string) error {
	_, err := ParseServiceAccountKey(v)
	return err
}
