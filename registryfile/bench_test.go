package registryfile

import (
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// bigFile is a valid registries file of about size bytes (static kinds, no file: values).
func bigFile(size int) string {
	var b strings.Builder
	b.WriteString("registries:\n")
	for i := 0; b.Len() < size-200; i++ {
		fmt.Fprintf(&b, "  - name: registry %d\n    type: Custom\n    url: r%d.example.com\n    credentials:\n      username: deploy\n      password: secret-%d\n", i, i, i)
	}
	return b.String()
}

// bigDocumentsFile is bigFile in the product documents' shape: no type (inferred from the
// url: GHCR, Docker Hub, Custom in turn), username and password beside the url.
func bigDocumentsFile(size int) string {
	var b strings.Builder
	b.WriteString("registries:\n")
	for i := 0; b.Len() < size-200; i++ {
		url := []string{"ghcr.io/org%d", "docker.io/org%d", "r%d.example.com"}[i%3]
		fmt.Fprintf(&b, "  - name: registry %d\n    url: "+url+"\n    username: deploy\n    password: secret-%d\n", i, i, i)
	}
	return b.String()
}

// BenchmarkDecode: the largest file accepted (MaxFileSize), decoded and validated, in our
// shape and in the documents' (types inferred from the url), next to the sigs.k8s.io/yaml
// parse the package used before (parse only, no validation).
//
//	go test -run XXX -bench Decode -benchmem ./registryfile
func BenchmarkDecode(b *testing.B) {
	for _, size := range []int{64 << 10, MaxFileSize} {
		in := bigFile(size)
		b.Run(fmt.Sprintf("registryfile.Decode/%dKiB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := Decode(strings.NewReader(in)); err != nil {
					b.Fatal(err)
				}
			}
		})
		docs := bigDocumentsFile(size)
		b.Run(fmt.Sprintf("registryfile.Decode/documents-shape/%dKiB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(docs)))
			for b.Loop() {
				if _, err := Decode(strings.NewReader(docs)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("sigs.k8s.io-yaml.Unmarshal/%dKiB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				var v struct{ Registries []map[string]any }
				if err := yaml.Unmarshal([]byte(in), &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
