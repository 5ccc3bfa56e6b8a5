package registry_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The core packages import no Kubernetes, Docker Engine or cloud SDK: a platform that only
// wants the catalog and the keychain must not pull them in.
var forbiddenImports = []string{
	"k8s.io/",
	"sigs.k8s.io/",
	"github.com/docker/docker/",
	"github.com/aws/",
	"cloud.google.com/",
	"github.com/Azure/",
	"golang.org/x/oauth2/google",
}

// forbiddenDeps lists the forbidden packages among pkgs' dependencies (tests excluded).
func forbiddenDeps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, pkgs...)
	cmd := exec.Command(goTool, args...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	var bad []string
	for _, p := range strings.Fields(string(out)) {
		for _, f := range forbiddenImports {
			if strings.HasPrefix(p, f) || p == strings.TrimSuffix(f, "/") {
				bad = append(bad, p)
			}
		}
	}
	return bad
}

func TestCoreImportsNoPlatformSDK(t *testing.T) {
	for _, pkg := range []string{
		"github.com/regcred/regcred/registry",
		"github.com/regcred/regcred/registry/transport",
		"github.com/regcred/regcred/registry/keychain",
		"github.com/regcred/regcred/registry/conntest",
		"github.com/regcred/regcred/catalog",
		"github.com/regcred/regcred/dockerconfig",
	} {
		t.Run(filepath.Base(pkg), func(t *testing.T) {
			if bad := forbiddenDeps(t, pkg); len(bad) > 0 {
				t.Fatalf("%s depends on %s", pkg, strings.Join(bad, ", "))
			}
		})
	}
}

// The check itself sees a forbidden dependency (so a pass means something).
func TestForbiddenDepsDetects(t *testing.T) {
	bad := forbiddenDeps(t, "k8s.io/apimachinery/pkg/types")
	if len(bad) == 0 {
		t.Fatal("forbiddenDeps found nothing in a k8s.io package")
	}
}

// The model imports none of its own sub-packages (transport, keychain, conntest) nor the
// catalog or the stores: data flows from the record outwards, never back.
func TestModelImportsNoSubPackage(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}", "github.com/regcred/regcred/registry").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps returned %d packages; the check would see nothing", len(deps))
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "github.com/regcred/regcred/registry/") ||
			strings.HasPrefix(p, "github.com/regcred/regcred/catalog") ||
			strings.HasPrefix(p, "github.com/regcred/regcred/store") {
			t.Errorf("registry depends on %s", p)
		}
	}
}
