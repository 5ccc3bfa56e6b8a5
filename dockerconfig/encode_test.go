package dockerconfig

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/registry"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or writes it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n got: %s\nwant: %s", p, got, want)
	}
}

func TestMarshalGolden(t *testing.T) {
	full := New()
	full.Set("docker.io", registry.Credentials{Username: "alice", Password: "dckr_pat_abc"})
	full.Set("ghcr.io/myorg", registry.Credentials{Username: "octocat", Password: "ghp_x<y>&z"})
	full.Set("https://myreg.azurecr.io", registry.Credentials{Username: "<token>", Password: "aad-refresh"})
	full.Set("localhost:5000", registry.Credentials{RegistryToken: "bearer.jwt.sig"})
	full.Set("quay.io", registry.Credentials{Username: "org+robot", Password: "p:a:ss"})
	e := full.Auths["quay.io"]
	e.Email = "robot@example.com"
	full.Auths["quay.io"] = e
	full.CredHelpers = map[string]string{"gcr.io": "gcloud", "123456789012.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"}
	full.CredsStore = "pass"
	full.Extra = map[string]json.RawMessage{"HttpHeaders": json.RawMessage(`{ "X-Meta": "1" }`), "psFormat": json.RawMessage(`"table"`)}

	tests := []struct {
		name string
		cfg  *Config
	}{
		{"empty", New()},
		{"zero", &Config{}},
		{"full", full},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "encode/"+tt.name+".golden", got)
			var buf bytes.Buffer
			if err := tt.cfg.Encode(&buf); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), got) {
				t.Errorf("Encode and Marshal differ")
			}
			back, err := Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			again, err := back.Marshal()
			if err != nil || !bytes.Equal(again, got) {
				t.Errorf("decode+encode is not stable: %s", again)
			}
		})
	}
}

// TestMarshalMatchesKubectl: kubectl create secret docker-registry private-reg-cred
// --docker-username=docker_user --docker-password=dock_password
// --docker-server=myprivateregistry.com:5000 --docker-email=dock_user@myprivateregistry.com
// stores exactly these bytes (testdata/encode/kubectl.json, from a real kubectl run).
func TestMarshalMatchesKubectl(t *testing.T) {
	want, err := os.ReadFile("testdata/encode/kubectl.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg := New()
	cfg.Set("myprivateregistry.com:5000", registry.Credentials{Username: "docker_user", Password: "dock_password"})
	e := cfg.Auths["myprivateregistry.com:5000"]
	e.Email = "dock_user@myprivateregistry.com"
	cfg.Auths["myprivateregistry.com:5000"] = e
	got, err := cfg.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bytes.TrimSpace(want)) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	back, err := Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cfg, back); diff != "" {
		t.Errorf("decoding kubectl's output (-want +got):\n%s", diff)
	}
}

func TestMarshalDeterministic(t *testing.T) {
	servers := []string{"ghcr.io", "quay.io", "docker.io", "registry.example.com:5000", "ghcr.io/a", "b.example", "a.example"}
	build := func(order []int) []byte {
		c := &Config{}
		for _, i := range order {
			c.Set(servers[i], registry.Credentials{Username: "u" + strings.ReplaceAll(servers[i], ":", "_"), Password: registry.Secret("p" + servers[i])})
		}
		c.CredHelpers = map[string]string{}
		for _, i := range order {
			c.CredHelpers[servers[i]] = "h" + servers[i]
		}
		c.Extra = map[string]json.RawMessage{}
		for _, i := range order {
			c.Extra["x"+servers[i]] = json.RawMessage(`{"k":"` + servers[i] + `"}`)
		}
		b, err := c.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	orders := [][]int{{0, 1, 2, 3, 4, 5, 6}, {6, 5, 4, 3, 2, 1, 0}, {3, 0, 6, 1, 5, 2, 4}, {4, 2, 5, 1, 6, 0, 3}}
	first := build(orders[0])
	sum := sha256.Sum256(first)
	for _, o := range orders[1:] {
		for range 20 { // map iteration order differs run to run
			b := build(o)
			if s := sha256.Sum256(b); s != sum {
				t.Fatalf("order %v: different bytes:\n%s\n%s", o, first, b)
			}
		}
	}
	// Decoding documents whose keys come in other orders gives the same bytes too.
	a := `{"credsStore":"s","auths":{"b":{"password":"p","username":"u"},"a":{"auth":"` + b64("x:y") + `"}},"z":{"b":1,"a":2}}`
	b := `{"z":{"b":1, "a":2},"auths":{"a":{"username":"x","auth":"` + rawb64("x:y") + `"},"b":{"username":"u","password":"p"}},"credsStore":"s"}`
	ca, err := Parse([]byte(a))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := Parse([]byte(b))
	if err != nil {
		t.Fatal(err)
	}
	ba, _ := ca.Marshal()
	bb, _ := cb.Marshal()
	if !bytes.Equal(ba, bb) {
		t.Errorf("equal configs encode differently:\n%s\n%s", ba, bb)
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name       string
		cfg        *Config
		key, field string
	}{
		{"colon in username", &Config{Auths: map[string]AuthEntry{"h": {Username: "a:b", Password: "s3cret"}}}, "h", "username"},
		{"Extra shadows auths", &Config{Extra: map[string]json.RawMessage{"auths": json.RawMessage(`{}`)}}, "", "auths"},
		{"Extra not JSON", &Config{Extra: map[string]json.RawMessage{"x": json.RawMessage(`{nope`)}}, "", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.Marshal()
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Op != "encode" || fe.Key != tt.key || fe.Field != tt.field {
				t.Fatalf("Marshal error = %#v, want encode error key=%q field=%q", err, tt.key, tt.field)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

// TestAppendStringMatchesEncodingJSON: our string escaper is byte-identical to json.Marshal.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range stringCorpus {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

var stringCorpus = []string{"", "plain", `quo"te`, `back\slash`, "<token>", "a&b>c", "\b\f\n\r\t\x00\x01\x1f\x7f",
	"é ü 日本", "\u2028\u2029", "bad \xff utf8 \xc3", "emoji 🦀", "\xed\xa0\x80"}

func FuzzAppendString(f *testing.F) {
	for _, s := range stringCorpus {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}
