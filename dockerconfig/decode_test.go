package dockerconfig

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/registry"
)

func b64(s string) string    { return base64.StdEncoding.EncodeToString([]byte(s)) }
func rawb64(s string) string { return base64.RawStdEncoding.EncodeToString([]byte(s)) }

func auths(m map[string]AuthEntry) *Config { return &Config{Auths: m} }

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *Config
	}{
		{"empty input", "", New()},
		{"blank input", " \n\t", New()},
		{"null", "null", New()},
		{"empty object", "{}", New()},
		{"empty auths", `{"auths":{}}`, New()},
		{"null auths", `{"auths":null}`, New()},
		{"padded auth", `{"auths":{"ghcr.io":{"auth":"` + b64("alice:s3cret") + `"}}}`,
			auths(map[string]AuthEntry{"ghcr.io": {Username: "alice", Password: "s3cret"}})},
		{"unpadded auth", `{"auths":{"ghcr.io":{"auth":"` + rawb64("alice:s3cret") + `"}}}`,
			auths(map[string]AuthEntry{"ghcr.io": {Username: "alice", Password: "s3cret"}})},
		{"unpadded auth needing two pad chars", `{"auths":{"h":{"auth":"` + rawb64("ab:cdef") + `"}}}`,
			auths(map[string]AuthEntry{"h": {Username: "ab", Password: "cdef"}})},
		{"auth with a line break (std decoder ignores CR/LF)", `{"auths":{"h":{"auth":"` + b64("alice:s3cret")[:4] + `\n` + b64("alice:s3cret")[4:] + `"}}}`,
			auths(map[string]AuthEntry{"h": {Username: "alice", Password: "s3cret"}})},
		{"split at the first colon", `{"auths":{"h":{"auth":"` + b64("alice:pa:ss:") + `"}}}`,
			auths(map[string]AuthEntry{"h": {Username: "alice", Password: "pa:ss:"}})},
		{"empty password", `{"auths":{"h":{"auth":"` + b64("alice:") + `"}}}`,
			auths(map[string]AuthEntry{"h": {Username: "alice"}})},
		{"NULs around the password are dropped", `{"auths":{"h":{"auth":"` + b64("alice:pw\x00\x00") + `"}}}`,
			auths(map[string]AuthEntry{"h": {Username: "alice", Password: "pw"}})},
		{"username and password fields only", `{"auths":{"h":{"username":"bob","password":"pw","email":"b@x.io"}}}`,
			auths(map[string]AuthEntry{"h": {Username: "bob", Password: "pw", Email: "b@x.io"}})},
		{"auth wins over username/password", `{"auths":{"h":{"username":"bob","password":"pw","auth":"` + b64("alice:s3cret") + `"}}}`,
			auths(map[string]AuthEntry{"h": {Username: "alice", Password: "s3cret"}})},
		{"<token> in auth is an identity token", `{"auths":{"myreg.azurecr.io":{"auth":"` + b64("<token>:refresh") + `"}}}`,
			auths(map[string]AuthEntry{"myreg.azurecr.io": {IdentityToken: "refresh"}})},
		{"<token> in fields is an identity token", `{"auths":{"h":{"username":"<token>","password":"refresh"}}}`,
			auths(map[string]AuthEntry{"h": {IdentityToken: "refresh"}})},
		{"explicit identitytoken wins over <token>", `{"auths":{"h":{"username":"<token>","password":"old","identitytoken":"new"}}}`,
			auths(map[string]AuthEntry{"h": {IdentityToken: "new"}})},
		{"identity and registry tokens", `{"auths":{"h":{"auth":"` + b64("u:") + `","identitytoken":"it","registrytoken":"rt"}}}`,
			auths(map[string]AuthEntry{"h": {Username: "u", IdentityToken: "it", RegistryToken: "rt"}})},
		{"field names match case-insensitively, like docker", `{"auths":{"h":{"Username":"u","PASSWORD":"p"}}}`,
			auths(map[string]AuthEntry{"h": {Username: "u", Password: "p"}})},
		{"unknown entry fields dropped", `{"auths":{"h":{"auth":"` + b64("u:p") + `","serveraddress":"h"}}}`,
			auths(map[string]AuthEntry{"h": {Username: "u", Password: "p"}})},
		{"empty entry (docker writes them when a helper stores the secret)", `{"auths":{"ghcr.io":{}},"credsStore":"pass"}`,
			&Config{Auths: map[string]AuthEntry{"ghcr.io": {}}, CredsStore: "pass"}},
		{"helpers", `{"credHelpers":{"gcr.io":"gcloud","123456789012.dkr.ecr.eu-west-1.amazonaws.com":"ecr-login"},"credsStore":"desktop"}`,
			&Config{Auths: map[string]AuthEntry{}, CredsStore: "desktop",
				CredHelpers: map[string]string{"gcr.io": "gcloud", "123456789012.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"}}},
		{"empty credHelpers is nil", `{"credHelpers":{}}`, New()},
		{"unknown top-level keys preserved, compacted", `{"auths":{},"HttpHeaders":{ "User-Agent" : "x" },"psFormat":"table {{.ID}}","proxies":{"default":{"httpProxy":"http://p:3128"}},"n":1.50}`,
			&Config{Auths: map[string]AuthEntry{}, Extra: map[string]json.RawMessage{
				"HttpHeaders": json.RawMessage(`{"User-Agent":"x"}`),
				"psFormat":    json.RawMessage(`"table {{.ID}}"`),
				"proxies":     json.RawMessage(`{"default":{"httpProxy":"http://p:3128"}}`),
				"n":           json.RawMessage(`1.50`),
			}}},
		{"legacy .dockercfg flat map", `{"https://index.docker.io/v1/":{"auth":"` + b64("alice:s3cret") + `","email":"a@x.io"},"quay.io":{"auth":"` + rawb64("robot+r:tok") + `"}}`,
			auths(map[string]AuthEntry{
				"https://index.docker.io/v1/": {Username: "alice", Password: "s3cret", Email: "a@x.io"},
				"quay.io":                     {Username: "robot+r", Password: "tok"},
			})},
		{"not legacy when a value is not an entry", `{"quay.io":{"auth":"` + b64("u:p") + `"},"psFormat":"x"}`,
			&Config{Auths: map[string]AuthEntry{}, Extra: map[string]json.RawMessage{
				"quay.io": json.RawMessage(`{"auth":"` + b64("u:p") + `"}`), "psFormat": json.RawMessage(`"x"`)}}},
		{"object-valued settings are not legacy entries", `{"HttpHeaders":{"X-Meta":"1"}}`,
			&Config{Auths: map[string]AuthEntry{}, Extra: map[string]json.RawMessage{"HttpHeaders": json.RawMessage(`{"X-Meta":"1"}`)}}},
		{"null entry is empty", `{"auths":{"h":null}}`, auths(map[string]AuthEntry{"h": {}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	const secret = "hunter2-Very-Secret"
	tests := []struct {
		name              string
		in                string
		key, field, words string
	}{
		{"not JSON", `{"auths":`, "", "", "not valid JSON"},
		{"trailing garbage", `{} x`, "", "", "not valid JSON"},
		{"array document", `["` + secret + `"]`, "", "", "the document is a JSON array, want an object"},
		{"auths is a string", `{"auths":"` + secret + `"}`, "", "auths", "is a JSON string, want an object"},
		{"entry is a string", `{"auths":{"ghcr.io":"` + secret + `"}}`, "ghcr.io", "", "is a JSON string, want an object"},
		{"auth is a number", `{"auths":{"ghcr.io":{"auth":12345}}}`, "ghcr.io", "auth", "is a JSON number, want a string"},
		{"password is an object", `{"auths":{"h":{"password":{"v":"` + secret + `"}}}}`, "h", "password", "is a JSON object, want a string"},
		{"bad base64", `{"auths":{"ghcr.io":{"auth":"` + secret + `!!"}}}`, "ghcr.io", "auth", "not valid base64"},
		{"url-safe base64", `{"auths":{"h":{"auth":"` + base64.URLEncoding.EncodeToString([]byte("u:\xfb\xff"+secret)) + `"}}}`, "h", "auth", "URL-safe alphabet"},
		{"no colon", `{"auths":{"quay.io":{"auth":"` + b64(secret) + `"}}}`, "quay.io", "auth", "no colon"},
		{"empty username", `{"auths":{"h":{"auth":"` + b64(":"+secret) + `"}}}`, "h", "auth", "empty username"},
		{"not UTF-8", `{"auths":{"h":{"auth":"` + b64("u:\xff"+secret) + `"}}}`, "h", "auth", "UTF-8"},
		{"colon in username field", `{"auths":{"h":{"username":"a:b","password":"` + secret + `"}}}`, "h", "username", "contains a colon"},
		{"legacy entry with bad auth", `{"h":{"auth":"` + b64(secret) + `","email":"e"}}`, "h", "auth", "no colon"},
		{"credsStore is a number", `{"credsStore":42}`, "", "credsStore", "is a JSON number, want a string"},
		{"credHelpers value is a bool", `{"credHelpers":{"gcr.io":true}}`, "gcr.io", "credHelpers", "is a JSON bool, want a string"},
		{"first bad entry by key order", `{"auths":{"b":{"auth":"x"},"a":{"auth":"` + b64("nocolon") + `"}}}`, "a", "auth", "no colon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Decode(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("Decode succeeded: %v", cfg)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not a *FormatError", err, err)
			}
			if fe.Key != tt.key || fe.Field != tt.field || !strings.Contains(fe.Reason, tt.words) {
				t.Errorf("got key=%q field=%q reason=%q; want key=%q field=%q reason containing %q", fe.Key, fe.Field, fe.Reason, tt.key, tt.field, tt.words)
			}
			if !errors.Is(err, registry.ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false")
			}
			if s := err.Error(); strings.Contains(s, secret) || strings.Contains(s, "hunter2") {
				t.Errorf("error text leaks the secret: %s", s)
			}
		})
	}
}

func TestDecodeSyntaxErrorOffset(t *testing.T) {
	_, err := Parse([]byte(`{"auths":{"h":{]}}`))
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Offset != 16 {
		t.Fatalf("want a FormatError at offset 16, got %#v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	p := filepath.Join(dir, "config.json")
	if err := os.WriteFile(p, []byte(`{"auths":{"h":{"auth":"bad!"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(p)
	var fe *FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), p) {
		t.Errorf("Load(bad) = %v, want a FormatError naming the file", err)
	}
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p)
	if err != nil || len(cfg.Auths) != 0 {
		t.Errorf("Load(empty file) = %v, %v; want an empty config", cfg, err)
	}
}

func TestJSONMarshalIsRedacted(t *testing.T) {
	doc := struct {
		Data  *Config   `json:"data"`
		Entry AuthEntry `json:"entry"`
	}{
		Data:  &Config{Auths: map[string]AuthEntry{"h": {Username: "u", Password: "s3cret", IdentityToken: "tok"}}, CredsStore: "pass"},
		Entry: AuthEntry{Username: "<token>", Password: "s3cret"},
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"data":{"auths":{"h":{"username":"u","password":"REDACTED","identitytoken":"REDACTED"}},"credsStore":"pass"},"entry":{"identitytoken":"REDACTED"}}`
	if string(out) != want {
		t.Errorf("json.Marshal = %s\nwant           %s", out, want)
	}
}
