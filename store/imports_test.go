package store_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const mod = "github.com/regcred/regcred/"

// deps lists pkgs' dependencies (tests excluded).
func deps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, pkgs...)
	out, err := exec.Command(goTool, args...).Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return strings.Fields(string(out))
}

func having(list []string, prefixes ...string) []string {
	var bad []string
	for _, p := range list {
		for _, f := range prefixes {
			if strings.HasPrefix(p, f) {
				bad = append(bad, p)
			}
		}
	}
	return bad
}

var (
	sqliteDriver   = []string{"modernc.org/", mod + "store/sqlite"}
	postgresDriver = []string{"github.com/jackc/", mod + "store/postgres"}
)

// A platform that does not import a driver does not compile it: registry and store (and
// the sealed wrapper) reach no driver; each driver reaches only its own.
func TestDriversStayOutOfTheImportGraph(t *testing.T) {
	for _, tc := range []struct {
		pkg       string
		forbidden []string
	}{
		{mod + "registry", append(append([]string{mod + "store"}, sqliteDriver...), postgresDriver...)},
		{mod + "store", append(sqliteDriver, postgresDriver...)},
		{mod + "store/sealed", append(sqliteDriver, postgresDriver...)},
		{mod + "store/sqlite", postgresDriver},
		{mod + "store/postgres", sqliteDriver},
	} {
		t.Run(strings.TrimPrefix(tc.pkg, mod), func(t *testing.T) {
			if bad := having(deps(t, tc.pkg), tc.forbidden...); len(bad) > 0 {
				t.Fatalf("%s depends on %s", tc.pkg, strings.Join(bad, ", "))
			}
		})
	}
}

// The check sees a driver where there is one (so a pass means something).
func TestImportCheckDetects(t *testing.T) {
	if bad := having(deps(t, mod+"store/sqlite"), sqliteDriver...); len(bad) == 0 {
		t.Fatal("store/sqlite's dependencies show no SQLite driver")
	}
	if bad := having(deps(t, mod+"store/postgres"), postgresDriver...); len(bad) == 0 {
		t.Fatal("store/postgres's dependencies show no pgx")
	}
}
