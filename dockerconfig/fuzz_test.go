package dockerconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecode: Decode never panics, and whatever it accepts encodes, and the encoding
// decodes to an equal config and re-encodes to the same bytes.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		``, `null`, `{}`, `[]`, `{"auths":{}}`,
		`{"auths":{"ghcr.io":{"auth":"` + b64("alice:s3cret") + `"}}}`,
		`{"auths":{"h":{"auth":"` + rawb64("a:b:c") + `","email":"e"}},"credsStore":"pass","credHelpers":{"gcr.io":"gcloud"}}`,
		`{"auths":{"h":{"username":"<token>","password":"x","registrytoken":"r"}},"HttpHeaders":{"A":"<&>"}}`,
		`{"https://index.docker.io/v1/":{"auth":"` + b64("u:p\x00") + `","email":"x"}}`,
		`{"auths":{"h":{"Username":"u","PASSWORD":"p\u2028"}},"z":[1,2,{"a":null}]}`,
		`{"auths":{"h":{"auth":"!!"}}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	// The golden documents are seeds too.
	if files, _ := filepath.Glob("testdata/encode/*"); files != nil {
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		trimmed := bytes.TrimSpace(data)
		if len(trimmed) == 0 {
			if err != nil || len(cfg.Auths) != 0 {
				t.Fatalf("empty input: %v %v", cfg, err)
			}
			return
		}
		slow, slowErr := parseSlow(trimmed)
		if (err == nil) != (slowErr == nil) {
			t.Fatalf("fast and slow paths disagree: %v vs %v\ninput: %q", err, slowErr, data)
		}
		if err != nil {
			return
		}
		if diff := cmp.Diff(slow, cfg); diff != "" {
			t.Fatalf("fast and slow paths decode differently (-slow +fast):\n%s\ninput: %q", diff, data)
		}
		enc, err := cfg.Marshal()
		if err != nil {
			t.Fatalf("a decoded config does not encode: %v\ninput: %q", err, data)
		}
		back, err := Parse(enc)
		if err != nil {
			t.Fatalf("our own encoding does not decode: %v\nencoding: %s", err, enc)
		}
		if diff := cmp.Diff(cfg, back); diff != "" {
			t.Fatalf("round trip changed the config (-first +second):\n%s\ninput: %q\nencoding: %s", diff, data, enc)
		}
		enc2, err := back.Marshal()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("re-encoding differs:\n%s\n%s", enc, enc2)
		}
	})
}

// FuzzKey: Key is idempotent and never panics.
func FuzzKey(f *testing.F) {
	for _, s := range []string{"", "docker.io", "https://ghcr.io/org/", "http://[::1]:5000/v2/", "a://b://c", "h/x://y", " / a /", "ÄB.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := Key(s)
		if k2 := Key(k); k2 != k {
			t.Fatalf("Key(%q) = %q but Key(%q) = %q", s, k, k, k2)
		}
	})
}
