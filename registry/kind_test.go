package registry_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/registry"
)

var (
	saKeyOnce  sync.Once
	saKeyPEM   string // PKCS#8, as Google issues them
	saKeyPKCS1 string // the same key as PKCS#1 ("RSA PRIVATE KEY"), as older tools write them
)

// testSAKey returns a Google service account key file with a real (generated) RSA key.
func testSAKey(t testing.TB) string {
	t.Helper()
	saKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			panic(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		saKeyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		saKeyPKCS1 = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	})
	return saKeyJSON(map[string]string{
		"type": "service_account", "project_id": "demo", "private_key_id": "abc",
		"private_key": saKeyPEM, "client_email": "puller@demo.iam.gserviceaccount.com",
		"token_uri": "https://oauth2.googleapis.com/token",
	})
}

func saKeyJSON(m map[string]string) string {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// saKeyWith returns the test key with fields replaced ("" deletes).
func saKeyWith(t testing.TB, changes map[string]string) string {
	var m map[string]string
	if err := json.Unmarshal([]byte(testSAKey(t)), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range changes {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return saKeyJSON(m)
}

const (
	testAccessKey = "AKIAIOSFODNN7EXAMPLE"
	testSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testCA        = "-----BEGIN CERTIFICATE-----\nMIIBhTCCASugAwIBAgIQIRi6zePL6mKjOipn+dNuaTAKBggqhkjOPQQDAjASMRAw\nDgYDVQQKEwdBY21lIENvMB4XDTE3MTAyMDE5NDMwNloXDTE4MTAyMDE5NDMwNlow\nEjEQMA4GA1UEChMHQWNtZSBDbzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABD0d\n7VNhbWvZLWPuj/RtHFjvtJBEwOkhbN/BnnE8rnZR8+sbwnc/KhCk3FhnpHZnQz7B\n5aETbbIgmuvewdjvSBSjYzBhMA4GA1UdDwEB/wQEAwICpDATBgNVHSUEDDAKBggr\nBgEFBQcDATAPBgNVHRMBAf8EBTADAQH/MCkGA1UdEQQiMCCCDmxvY2FsaG9zdDo1\nNDUzgg4xMjcuMC4wLjE6NTQ1MzAKBggqhkjOPQQDAgNIADBFAiEA2zpJEPQyz6/l\nWf86aX6PepsntZv2GYlA5UpabfT2EZICICpJ5h/iI+i341gBmLiAFQOyTDT+/wQc\n6MF9+Yw1Yy0t\n-----END CERTIFICATE-----\n"
)

// validRecords is one valid record per kind (and per interesting variant).
func validRecords(t testing.TB) map[string]registry.Registry {
	return map[string]registry.Registry{
		"dockerhub":        {Name: "hub", Kind: registry.KindDockerHub, Fields: map[string]string{"username": "me", "password": "dckr_pat_x"}},
		"ghcr":             {Name: "gh", Kind: registry.KindGHCR, Fields: map[string]string{"username": "octocat", "token": "ghp_x"}},
		"ghcr path":        {Name: "gh", Kind: registry.KindGHCR, Server: "ghcr.io/myorg", Fields: map[string]string{"username": "octocat", "token": "ghp_x"}},
		"quay":             {Name: "q", Kind: registry.KindQuay, Fields: map[string]string{"username": "org+bot", "token": "t"}},
		"harbor":           {Name: "h", Kind: registry.KindHarbor, Server: "https://harbor.example.com", Fields: map[string]string{"username": "robot$p+ci", "password": "p"}},
		"custom":           {Name: "c", Kind: registry.KindCustom, Server: "registry.example.com:5000", Fields: map[string]string{"username": "u", "password": "p"}},
		"custom anonymous": {Name: "c", Kind: registry.KindCustom, Server: "registry.example.com"},
		"custom http insecure": {Name: "c", Kind: registry.KindCustom, Server: "http://[::1]:5000",
			TLS: registry.TLS{Mode: registry.TLSInsecure}},
		"custom ca": {Name: "c", Kind: registry.KindCustom, Server: "registry.example.com",
			TLS: registry.TLS{Mode: registry.TLSCustomCA, CABundle: testCA}},
		"custom wildcard": {Name: "c", Kind: registry.KindCustom, Server: "*.example.com"},
		"public":          {Name: "p", Kind: registry.KindPublic},
		"ecr chain":       {Name: "e", Kind: registry.KindECR, Fields: map[string]string{"region": "eu-west-3"}},
		"ecr sovereign":   {Name: "e", Kind: registry.KindECR, Fields: map[string]string{"region": "eusc-de-east-1"}},
		"ecr keys": {Name: "e", Kind: registry.KindECR, Fields: map[string]string{"region": "us-gov-west-1",
			"accessKeyId": testAccessKey, "secretAccessKey": testSecretKey, "roleArn": "arn:aws:iam::123456789012:role/puller"}},
		"ecr session": {Name: "e", Kind: registry.KindECR, Fields: map[string]string{"region": "cn-north-1",
			"accessKeyId": "ASIAIOSFODNN7EXAMPLE", "secretAccessKey": testSecretKey, "sessionToken": "tok"}},
		"acr":        {Name: "a", Kind: registry.KindACR, Fields: map[string]string{"loginServer": "myregistry.azurecr.io", "username": "sp", "password": "p"}},
		"acr tenant": {Name: "a", Kind: registry.KindACR, Fields: map[string]string{"loginServer": "MyRegistry.azurecr.io", "username": "sp", "password": "p", "tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47"}},
		"gcr":        {Name: "g", Kind: registry.KindGCR, Fields: map[string]string{"serviceAccountKey": testSAKey(t)}},
		"gcr pkcs1":  {Name: "g", Kind: registry.KindGCR, Fields: map[string]string{"serviceAccountKey": saKeyWith(t, map[string]string{"private_key": saKeyPKCS1})}},
		"gar":        {Name: "g", Kind: registry.KindGAR, Fields: map[string]string{"serviceAccountKey": testSAKey(t), "region": "europe-west1"}},
		"gar multi":  {Name: "g", Kind: registry.KindGAR, Fields: map[string]string{"serviceAccountKey": testSAKey(t), "region": "us"}},
		"kubernetes": {Name: "k", Kind: registry.KindKubernetes, Server: "registry.internal:5000",
			Fields: map[string]string{"serviceAccount": "payload/puller", "audience": "registry", "expirationSeconds": "3600"}},
	}
}

func TestValidateAcceptsEveryKind(t *testing.T) {
	seen := map[registry.Kind]bool{}
	for name, r := range validRecords(t) {
		t.Run(name, func(t *testing.T) {
			if err := r.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
		seen[r.Kind] = true
	}
	for _, k := range registry.Kinds() {
		if !seen[k] {
			t.Errorf("kind %s has no valid fixture", k)
		}
	}
}

func with(r registry.Registry, edit func(*registry.Registry)) registry.Registry {
	r = r.Clone()
	if r.Fields == nil {
		r.Fields = map[string]string{}
	}
	edit(&r)
	return r
}

func setField(name, v string) func(*registry.Registry) {
	return func(r *registry.Registry) {
		if v == "" {
			delete(r.Fields, name)
		} else {
			r.Fields[name] = v
		}
	}
}

func TestValidateRefuses(t *testing.T) {
	v := validRecords(t)
	tests := []struct {
		name   string
		r      registry.Registry
		field  string
		reason string // a piece of the reason
	}{
		// Record-level.
		{"unknown kind", with(v["public"], func(r *registry.Registry) { r.Kind = "gitlab" }), "type", "unknown registry type"},
		{"empty name", with(v["public"], func(r *registry.Registry) { r.Name = " " }), "name", "is empty"},
		{"harbor without url", with(v["harbor"], func(r *registry.Registry) { r.Server = "" }), "url", "is required"},
		{"custom without url", with(v["custom"], func(r *registry.Registry) { r.Server = "" }), "url", "is required"},
		{"kubernetes without url", with(v["kubernetes"], func(r *registry.Registry) { r.Server = "" }), "url", "is required"},
		{"wildcard for ghcr", with(v["ghcr"], func(r *registry.Registry) { r.Server = "*.ghcr.io" }), "url", "wildcard"},
		// Required fields, every kind.
		{"dockerhub username", with(v["dockerhub"], setField("username", "")), "username", "is required"},
		{"dockerhub password", with(v["dockerhub"], setField("password", "")), "password", "is required"},
		{"ghcr token", with(v["ghcr"], setField("token", "")), "token", "is required"},
		{"quay username", with(v["quay"], setField("username", "")), "username", "is required"},
		{"quay token", with(v["quay"], setField("token", "")), "token", "is required"},
		{"harbor password", with(v["harbor"], setField("password", "")), "password", "is required"},
		{"ecr region", with(v["ecr chain"], setField("region", "")), "region", "is required"},
		{"acr loginServer", with(v["acr"], setField("loginServer", "")), "loginServer", "is required"},
		{"acr username", with(v["acr"], setField("username", "")), "username", "is required"},
		{"acr password", with(v["acr"], setField("password", "")), "password", "is required"},
		{"gcr key", with(v["gcr"], setField("serviceAccountKey", "")), "serviceAccountKey", "is required"},
		{"gar region", with(v["gar"], setField("region", "")), "region", "is required"},
		{"kubernetes serviceAccount", with(v["kubernetes"], setField("serviceAccount", "")), "serviceAccount", "is required"},
		// Unknown fields.
		{"unknown field", with(v["ghcr"], setField("password", "x")), "password", "is not a field of GitHub Container Registry"},
		{"field on public", with(v["public"], setField("username", "x")), "username", "is not a field of Public"},
		// Field checks.
		{"username spaces", with(v["dockerhub"], setField("username", " me")), "username", "spaces"},
		{"username newline", with(v["quay"], setField("username", "org+bot\nx")), "username", "control character"},
		{"aws region", with(v["ecr chain"], setField("region", "europe-west1")), "region", "is not an AWS region"},
		{"aws region case", with(v["ecr chain"], setField("region", "EU-WEST-1")), "region", "is not an AWS region"},
		{"aws availability zone", with(v["ecr chain"], setField("region", "us-east-1a")), "region", "is not an AWS region"},
		{"access key shape", with(v["ecr keys"], setField("accessKeyId", "AKIA123")), "accessKeyId", "is not an AWS access key ID"},
		{"access key swapped", with(v["ecr keys"], setField("accessKeyId", testSecretKey)), "accessKeyId", "is not an AWS access key ID"},
		{"secret key shape", with(v["ecr keys"], setField("secretAccessKey", "short")), "secretAccessKey", "is not an AWS secret access key"},
		{"role arn", with(v["ecr keys"], setField("roleArn", "arn:aws:iam::12:role/x")), "roleArn", "is not an IAM role ARN"},
		{"ecr key without secret", with(v["ecr chain"], setField("accessKeyId", testAccessKey)), "secretAccessKey", "is required when"},
		{"ecr secret without key", with(v["ecr chain"], setField("secretAccessKey", testSecretKey)), "accessKeyId", "is required when"},
		{"ecr session alone", with(v["ecr chain"], setField("sessionToken", "tok")), "accessKeyId", "is required when sessionToken is given"},
		{"acr login server", with(v["acr"], setField("loginServer", "myregistry.azure.com")), "loginServer", "is not an Azure Container Registry login server"},
		{"acr login server with scheme", with(v["acr"], setField("loginServer", "https://myregistry.azurecr.io")), "loginServer", "is not an Azure"},
		{"acr url differs", with(v["acr"], func(r *registry.Registry) { r.Server = "other1.azurecr.io" }), "url", "differs from loginServer"},
		{"acr tenant", with(v["acr"], setField("tenant", "not a tenant")), "tenant", "is not a tenant"},
		{"gar region", with(v["gar"], setField("region", "europe_west1")), "region", "is not an Artifact Registry location"},
		{"gar region aws style", with(v["gar"], setField("region", "eu-west-1")), "region", "is not an Artifact Registry location"},
		{"sa key not json", with(v["gcr"], setField("serviceAccountKey", "{not json")), "serviceAccountKey", "is not JSON"},
		{"sa key wrong type", with(v["gcr"], setField("serviceAccountKey", saKeyWith(t, map[string]string{"type": "authorized_user"}))), "serviceAccountKey", "not service_account"},
		{"sa key no client_email", with(v["gar"], setField("serviceAccountKey", saKeyWith(t, map[string]string{"client_email": ""}))), "serviceAccountKey", "has no client_email"},
		{"sa key no private_key", with(v["gcr"], setField("serviceAccountKey", saKeyWith(t, map[string]string{"private_key": ""}))), "serviceAccountKey", "has no private_key"},
		{"sa key not pem", with(v["gcr"], setField("serviceAccountKey", saKeyWith(t, map[string]string{"private_key": "MIIEvQIBADANBg"}))), "serviceAccountKey", "is not PEM"},
		{"sa key broken pem", with(v["gcr"], setField("serviceAccountKey", saKeyWith(t, map[string]string{
			"private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}))), "serviceAccountKey", "does not parse"},
		{"service account ref", with(v["kubernetes"], setField("serviceAccount", "puller")), "serviceAccount", "is not namespace/name"},
		{"service account ref case", with(v["kubernetes"], setField("serviceAccount", "Payload/puller")), "serviceAccount", "is not namespace/name"},
		{"expiration short", with(v["kubernetes"], setField("expirationSeconds", "60")), "expirationSeconds", "at least 600"},
		{"expiration not a number", with(v["kubernetes"], setField("expirationSeconds", "1h")), "expirationSeconds", "at least 600"},
		{"custom user without password", with(v["custom anonymous"], setField("username", "u")), "password", "is required when"},
		{"custom password without user", with(v["custom anonymous"], setField("password", "p")), "username", "is required when"},
		// Server URLs (every check of ParseServer, through Validate).
		{"url scheme", with(v["custom"], func(r *registry.Registry) { r.Server = "ftp://registry.example.com" }), "url", "scheme"},
		{"url userinfo", with(v["custom"], func(r *registry.Registry) { r.Server = "https://u:pw@registry.example.com" }), "url", "user info"},
		{"url query", with(v["custom"], func(r *registry.Registry) { r.Server = "registry.example.com?x=1" }), "url", "query or fragment"},
		{"url fragment", with(v["custom"], func(r *registry.Registry) { r.Server = "registry.example.com#x" }), "url", "query or fragment"},
		{"url whitespace", with(v["custom"], func(r *registry.Registry) { r.Server = "registry.example .com" }), "url", "whitespace"},
		{"url port zero", with(v["custom"], func(r *registry.Registry) { r.Server = "registry.example.com:0" }), "url", "port"},
		{"url port range", with(v["custom"], func(r *registry.Registry) { r.Server = "registry.example.com:65536" }), "url", "port"},
		{"url port empty", with(v["custom"], func(r *registry.Registry) { r.Server = "registry.example.com:" }), "url", "port"},
		{"url port letters", with(v["custom"], func(r *registry.Registry) { r.Server = "registry.example.com:50a" }), "url", "port"},
		{"url port plus", with(v["custom"], func(r *registry.Registry) { r.Server = "registry.example.com:+50" }), "url", "port"},
		{"url trailing dot", with(v["custom"], func(r *registry.Registry) { r.Server = "registry.example.com." }), "url", "ends with a dot"},
		{"url uppercase path", with(v["custom"], func(r *registry.Registry) { r.Server = "registry.example.com/MyOrg" }), "url", "uppercase"},
		{"url bad path", with(v["custom"], func(r *registry.Registry) { r.Server = "registry.example.com/a..b" }), "url", "path segment"},
		{"url dash dot path", with(v["custom"], func(r *registry.Registry) { r.Server = "registry.example.com/a-.b" }), "url", "path segment"},
		{"url wildcard path", with(v["custom"], func(r *registry.Registry) { r.Server = "*.example.com/org" }), "url", "wildcard host cannot have a path"},
		{"url bad host", with(v["custom"], func(r *registry.Registry) { r.Server = "registry!.example.com" }), "url", "has the character"},
		{"url empty label", with(v["custom"], func(r *registry.Registry) { r.Server = "registry..example.com" }), "url", "is not a valid host name"},
		{"url dash label", with(v["custom"], func(r *registry.Registry) { r.Server = "-registry.example.com" }), "url", "is not a valid host name"},
		{"url long label", with(v["custom"], func(r *registry.Registry) { r.Server = strings.Repeat("a", 64) + ".example.com" }), "url", "is not a valid host name"},
		{"url long host", with(v["custom"], func(r *registry.Registry) { r.Server = strings.Repeat("abcdefghi.", 26) + "com" }), "url", "longer than 253"},
		{"url no host", with(v["custom"], func(r *registry.Registry) { r.Server = "https:///v2/" }), "url", "has no host"},
		{"ipv6 no bracket", with(v["custom"], func(r *registry.Registry) { r.Server = "::1:5000" }), "url", "without brackets"},
		{"ipv6 unclosed", with(v["custom"], func(r *registry.Registry) { r.Server = "[::1:5000" }), "url", "closing bracket"},
		{"ipv6 bad", with(v["custom"], func(r *registry.Registry) { r.Server = "[::g]:5000" }), "url", "bad IPv6 literal"},
		{"ipv6 is v4", with(v["custom"], func(r *registry.Registry) { r.Server = "[127.0.0.1]:5000" }), "url", "bad IPv6 literal"},
		{"ipv6 trailing", with(v["custom"], func(r *registry.Registry) { r.Server = "[::1]x" }), "url", "after the IPv6 literal"},
		// TLS.
		{"http but secure", with(v["custom"], func(r *registry.Registry) { r.Server = "http://registry.example.com" }), "url", "TLS mode is secure"},
		{"ca bundle but secure", with(v["custom"], func(r *registry.Registry) { r.TLS.CABundle = testCA }), "tls.caBundle", "secure only"},
		{"ca mode empty", with(v["custom"], func(r *registry.Registry) { r.TLS.Mode = registry.TLSCustomCA }), "tls.caBundle", "is empty"},
		{"ca mode not pem", with(v["custom"], func(r *registry.Registry) {
			r.TLS = registry.TLS{Mode: registry.TLSCustomCA, CABundle: "not a cert"}
		}), "tls.caBundle", "no PEM certificate"},
		{"ca mode http", with(v["custom ca"], func(r *registry.Registry) { r.Server = "http://registry.example.com" }), "url", "custom CA"},
		{"unknown tls mode", with(v["custom"], func(r *registry.Registry) { r.TLS.Mode = "strict" }), "tls.mode", "unknown TLS mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			var fe *registry.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate = %v (%T), want a *FieldError", err, err)
			}
			if fe.Field != tt.field || !strings.Contains(fe.Reason, tt.reason) {
				t.Fatalf("Validate = field %q reason %q; want field %q reason containing %q", fe.Field, fe.Reason, tt.field, tt.reason)
			}
			if !errors.Is(err, registry.ErrInvalid) {
				t.Fatal("errors.Is(err, ErrInvalid) is false")
			}
			if !strings.HasPrefix(err.Error(), "field "+tt.field+": ") {
				t.Fatalf("message %q does not name the field first", err.Error())
			}
			// Every problem names an input of the kind's form (the schema), unless it is a
			// field the kind does not have.
			k := tt.r.Kind
			if !k.Valid() {
				k = registry.KindCustom
			}
			if !strings.Contains(fe.Reason, "is not a field of") && !schemaHas(k, fe.Field) {
				t.Fatalf("field %q is not an input of the %s form", fe.Field, k)
			}
			// No secret value appears in the message.
			for name, val := range tt.r.Fields {
				if tt.r.IsSecretField(name) && len(val) > 3 && strings.Contains(err.Error(), val) {
					t.Fatalf("message %q contains the secret %s", err.Error(), name)
				}
			}
		})
	}
}

func TestParseKind(t *testing.T) {
	tests := map[string]registry.Kind{
		"GHCR": registry.KindGHCR, "Docker": registry.KindDockerHub, "Docker Hub": registry.KindDockerHub,
		" ecr ": registry.KindECR, "ACR": registry.KindACR, "GCR": registry.KindGCR, "GAR": registry.KindGAR,
		"Quay": registry.KindQuay, "Custom": registry.KindCustom, "Others": registry.KindCustom,
		"Public": registry.KindPublic, "Harbor": registry.KindHarbor, "Kubernetes": registry.KindKubernetes,
	}
	for in, want := range tests {
		got, err := registry.ParseKind(in)
		if err != nil || got != want {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, k := range registry.Kinds() {
		if got, err := registry.ParseKind(string(k)); err != nil || got != k {
			t.Errorf("ParseKind(%q) = %q, %v", k, got, err)
		}
	}
	_, err := registry.ParseKind("gitlab")
	var fe *registry.FieldError
	if !errors.As(err, &fe) || fe.Field != "type" || !strings.Contains(fe.Hint, "dockerhub") {
		t.Fatalf("ParseKind(gitlab) = %v", err)
	}
}

func TestKindSchema(t *testing.T) {
	// The form a platform renders: names, required and secret flags, per kind.
	type f struct {
		Name             string
		Required, Secret bool
	}
	want := map[registry.Kind][]f{
		registry.KindDockerHub:  {{"username", true, false}, {"password", true, true}},
		registry.KindGHCR:       {{"username", true, false}, {"token", true, true}},
		registry.KindQuay:       {{"username", true, false}, {"token", true, true}},
		registry.KindHarbor:     {{"username", true, false}, {"password", true, true}},
		registry.KindCustom:     {{"username", false, false}, {"password", false, true}},
		registry.KindPublic:     nil,
		registry.KindECR:        {{"region", true, false}, {"accessKeyId", false, false}, {"secretAccessKey", false, true}, {"sessionToken", false, true}, {"roleArn", false, false}},
		registry.KindACR:        {{"loginServer", true, false}, {"username", true, false}, {"password", true, true}, {"tenant", false, false}},
		registry.KindGCR:        {{"serviceAccountKey", true, true}},
		registry.KindGAR:        {{"serviceAccountKey", true, true}, {"region", true, false}},
		registry.KindKubernetes: {{"serviceAccount", true, false}, {"audience", false, false}, {"expirationSeconds", false, false}},
	}
	for _, k := range registry.Kinds() {
		t.Run(string(k), func(t *testing.T) {
			if !k.Valid() || k.Label() == string(k) || k.Label() == "" {
				t.Errorf("kind %q: Valid=%v Label=%q", k, k.Valid(), k.Label())
			}
			var got []f
			for _, fl := range k.Fields() {
				got = append(got, f{fl.Name, fl.Required, fl.Secret})
				if fl.Label == "" {
					t.Errorf("field %s has no label", fl.Name)
				}
				if g, ok := k.Field(fl.Name); !ok || g.Name != fl.Name {
					t.Errorf("Field(%q) not found", fl.Name)
				}
			}
			if diff := cmp.Diff(want[k], got); diff != "" {
				t.Fatalf("fields (-want +got):\n%s", diff)
			}
			if _, ok := k.Field("nope"); ok {
				t.Error("Field(nope) found")
			}
		})
	}
	// Fields returns a copy.
	fs := registry.KindGHCR.Fields()
	fs[0].Name = "mutated"
	if registry.KindGHCR.Fields()[0].Name != "username" {
		t.Fatal("Fields shares its slice")
	}
	if registry.Kind("x").Valid() || registry.Kind("x").Label() != "x" {
		t.Fatal("an unknown kind is valid")
	}
}

func TestKindDefaults(t *testing.T) {
	tests := []struct {
		k        registry.Kind
		fields   map[string]string
		server   string
		needs    bool
		expiring bool
	}{
		{registry.KindDockerHub, nil, "docker.io", false, false},
		{registry.KindPublic, nil, "docker.io", false, false},
		{registry.KindGHCR, nil, "ghcr.io", false, false},
		{registry.KindQuay, nil, "quay.io", false, false},
		{registry.KindHarbor, nil, "", true, false},
		{registry.KindCustom, nil, "", true, false},
		{registry.KindKubernetes, nil, "", true, true},
		{registry.KindGCR, nil, "gcr.io", false, true},
		{registry.KindGAR, map[string]string{"region": "europe-west1"}, "europe-west1-docker.pkg.dev", false, true},
		{registry.KindGAR, nil, "", false, true},
		{registry.KindECR, map[string]string{"region": "eu-west-1"}, "*.dkr.ecr.eu-west-1.amazonaws.com", false, true},
		{registry.KindECR, map[string]string{"region": "cn-north-1"}, "*.dkr.ecr.cn-north-1.amazonaws.com.cn", false, true},
		{registry.KindECR, map[string]string{"region": "eusc-de-east-1"}, "*.dkr.ecr.eusc-de-east-1.amazonaws.eu", false, true},
		{registry.KindECR, map[string]string{"region": "us-iso-east-1"}, "*.dkr.ecr.us-iso-east-1.c2s.ic.gov", false, true},
		{registry.KindECR, map[string]string{"region": "us-gov-west-1"}, "*.dkr.ecr.us-gov-west-1.amazonaws.com", false, true},
		{registry.KindACR, map[string]string{"loginServer": "My.azurecr.io"}, "my.azurecr.io", false, true},
	}
	for _, tt := range tests {
		if got := tt.k.DefaultServer(tt.fields); got != tt.server {
			t.Errorf("%s.DefaultServer(%v) = %q, want %q", tt.k, tt.fields, got, tt.server)
		}
		if tt.k.NeedsServer() != tt.needs || tt.k.Expiring() != tt.expiring {
			t.Errorf("%s: NeedsServer=%v Expiring=%v", tt.k, tt.k.NeedsServer(), tt.k.Expiring())
		}
	}
}

func TestStaticCredentials(t *testing.T) {
	v := validRecords(t)
	tests := []struct {
		rec  string
		want registry.Credentials
		ok   bool
	}{
		{"dockerhub", registry.Credentials{Username: "me", Password: "dckr_pat_x"}, true},
		{"ghcr", registry.Credentials{Username: "octocat", Password: "ghp_x"}, true},
		{"quay", registry.Credentials{Username: "org+bot", Password: "t"}, true},
		{"harbor", registry.Credentials{Username: "robot$p+ci", Password: "p"}, true},
		{"custom", registry.Credentials{Username: "u", Password: "p"}, true},
		{"custom anonymous", registry.Credentials{}, true},
		{"public", registry.Credentials{}, true},
		{"acr", registry.Credentials{Username: "sp", Password: "p"}, true},
		{"acr tenant", registry.Credentials{}, false},
		{"ecr chain", registry.Credentials{}, false},
		{"gcr", registry.Credentials{}, false},
		{"gar", registry.Credentials{}, false},
		{"kubernetes", registry.Credentials{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.rec, func(t *testing.T) {
			got, ok := registry.StaticCredentials(v[tt.rec])
			if ok != tt.ok || got != tt.want {
				t.Fatalf("StaticCredentials = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
			_, err := registry.StaticFactory(v[tt.rec])
			if (err == nil) != tt.ok {
				t.Fatalf("StaticFactory error = %v", err)
			}
			if err != nil && !errors.Is(err, registry.ErrInvalid) {
				t.Fatalf("StaticFactory error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func schemaHas(k registry.Kind, name string) bool {
	for _, f := range k.Schema().Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}
