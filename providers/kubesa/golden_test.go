package kubesa

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var loopbackPort = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares lines with testdata/name (rewritten with -update). The error messages of
// every fault live there, for review: what happened, what to do, no secret.
func golden(t *testing.T, name string, lines []string) {
	t.Helper()
	got := loopbackPort.ReplaceAllString(strings.Join(lines, "\n")+"\n", "127.0.0.1:PORT")
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Fatalf("%s differs (-want +got):\n%s", path, diff)
	}
}
