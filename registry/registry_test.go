package registry_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/registry"
)

func TestRegistryRedactedAndClone(t *testing.T) {
	r := registry.Registry{ID: "r", Name: "ecr", Kind: registry.KindECR, Fields: map[string]string{
		"region": "eu-west-1", "accessKeyId": testAccessKey, "secretAccessKey": testSecretKey,
		"sessionToken": "", "typo": "x"}, TLS: registry.TLS{Mode: registry.TLSCustomCA, CABundle: testCA}}
	red := r.Redacted()
	want := map[string]string{"region": "eu-west-1", "accessKeyId": testAccessKey,
		"secretAccessKey": registry.Redacted, "sessionToken": "", "typo": registry.Redacted}
	if diff := cmp.Diff(want, red.Fields); diff != "" {
		t.Fatalf("Redacted fields (-want +got):\n%s", diff)
	}
	if red.TLS.CABundle != testCA {
		t.Fatal("Redacted dropped the CA bundle (it is public)")
	}
	if r.Fields["secretAccessKey"] != testSecretKey {
		t.Fatal("Redacted changed the original")
	}
	c := r.Clone()
	c.Fields["region"] = "us-east-1"
	if r.Fields["region"] != "eu-west-1" {
		t.Fatal("Clone shares the Fields map")
	}
	if (registry.Registry{}).Redacted().Fields != nil || (registry.Registry{}).Clone().Fields != nil {
		t.Fatal("nil Fields must stay nil")
	}
}

func TestRegistryIsSecretField(t *testing.T) {
	tests := []struct {
		kind  registry.Kind
		field string
		want  bool
	}{
		{registry.KindDockerHub, "password", true},
		{registry.KindDockerHub, "username", false},
		{registry.KindGHCR, "token", true},
		{registry.KindECR, "accessKeyId", false},
		{registry.KindECR, "secretAccessKey", true},
		{registry.KindECR, "sessionToken", true},
		{registry.KindGCR, "serviceAccountKey", true},
		{registry.KindKubernetes, "audience", false},
		{registry.KindPublic, "password", true}, // unknown fields count as secret
		{"nokind", "username", true},
	}
	for _, tt := range tests {
		if got := (registry.Registry{Kind: tt.kind}).IsSecretField(tt.field); got != tt.want {
			t.Errorf("%s.%s secret = %v, want %v", tt.kind, tt.field, got, tt.want)
		}
	}
}

func TestRegistryServerInfo(t *testing.T) {
	v := validRecords(t)
	tests := []struct {
		rec    string
		server registry.Server
		str    string
	}{
		{"dockerhub", registry.Server{Host: "docker.io"}, `registry "hub" (dockerhub, docker.io)`},
		{"ghcr path", registry.Server{Host: "ghcr.io", Path: "myorg"}, `registry "gh" (ghcr, ghcr.io/myorg)`},
		{"custom http insecure", registry.Server{Scheme: "http", Host: "[::1]:5000"}, `registry "c" (custom, [::1]:5000)`},
		{"ecr chain", registry.Server{Host: "*.dkr.ecr.eu-west-3.amazonaws.com", Wildcard: true}, `registry "e" (ecr, *.dkr.ecr.eu-west-3.amazonaws.com)`},
		{"acr tenant", registry.Server{Host: "myregistry.azurecr.io"}, `registry "a" (acr, myregistry.azurecr.io)`},
		{"gar", registry.Server{Host: "europe-west1-docker.pkg.dev"}, `registry "g" (gar, europe-west1-docker.pkg.dev)`},
	}
	for _, tt := range tests {
		t.Run(tt.rec, func(t *testing.T) {
			r := v[tt.rec]
			got, err := r.ServerInfo()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.server, got); diff != "" {
				t.Fatalf("ServerInfo (-want +got):\n%s", diff)
			}
			if r.Host() != tt.server.Host {
				t.Errorf("Host = %q", r.Host())
			}
			if r.String() != tt.str {
				t.Errorf("String = %s, want %s", r.String(), tt.str)
			}
		})
	}
	if h := (registry.Registry{Kind: registry.KindCustom}).Host(); h != "" {
		t.Errorf("Host of a record without a server = %q", h)
	}
}
