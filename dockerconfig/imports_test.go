package dockerconfig

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsStayCore: dockerconfig (not its tests) imports no Kubernetes, Docker Engine
// or cloud SDK, so a platform can use it without them. (docker/cli's config packages come
// in through go-containerregistry's authn, which registry uses; they are not the Engine.)
func TestImportsStayCore(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{.ImportPath}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{"k8s.io/", "sigs.k8s.io/", "github.com/docker/docker/", "github.com/moby/",
		"github.com/aws/", "cloud.google.com/", "google.golang.org/api", "github.com/Azure/", "github.com/compose-spec/"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("dockerconfig depends on %s", dep)
			}
		}
	}
}
