package registryfile

import (
	"strings"
	"testing"
)

// FuzzDecode: any input either decodes or fails with *Error problems; nothing panics, no
// problem quotes the secret value, and a decoded registry is valid.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"- {name: a, type: public}\n",
		"registries:\n  - name: x\n    type: custom\n    url: r.example\n    credentials: {username: u, password: SECRETVALUE}\n",
		"- &a {name: a, type: public}\n- *a\n",
		"- name: a\n  type: ecr\n  credentials: &c {region: us-east-1}\n- {name: b, type: ecr, credentials: *c}\n",
		"- {name: a, type: custom, url: r.example, tls: {mode: ca, ca: SECRETVALUE}}\n",
		"registries: *x\n",
		"- <<: {name: a}\n",
		"--- \n- a\n---\n- b\n",
		"- {name: a, type: docker, credentials: {username: u, passwrod: SECRETVALUE}}\n",
		"? [a, b]\n: c\n",
		"- !!binary aGVsbG8=\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		regs, err := Decode(strings.NewReader(in), WithLookupEnv(func(string) (string, bool) { return "", false }))
		if err != nil {
			if len(Problems(err)) == 0 {
				t.Fatalf("error %v has no *Error problem", err)
			}
			// Keys that look like names and have a value are named (the user must find them).
			if strings.Contains(err.Error(), "SECRETVALUE") && !strings.Contains(in, "SECRETVALUE:") {
				t.Fatalf("error quotes a value: %v", err)
			}
			return
		}
		for _, r := range regs {
			if verr := r.Validate(); verr != nil {
				t.Fatalf("decoded an invalid registry: %v", verr)
			}
		}
	})
}
