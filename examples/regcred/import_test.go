package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registryfile"
	"github.com/regcred/regcred/store/sealed"
	"github.com/regcred/regcred/store/sqlite"
)

const importFile = `registries:
  - name: My GHCR
    type: GHCR
    default: true
    credentials: {username: myorg, token: ghp_canary_0123456789}
  - name: harbor
    type: Custom
    url: https://harbor.example.com
    owner: alice
    credentials: {username: "robot$ci", password: "p@ss: with # and 'quotes'"}
    tls:
      mode: insecure
`

// import into SQLite, export back: the registries file reads to the same records; a
// second import writes nothing.
func TestImportExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "registries.yaml")
	os.WriteFile(in, []byte(importFile), 0o600)
	dsn := "sqlite:" + filepath.Join(dir, "regcred.db")
	code, out, errOut := runCLI(t, "-f", in, "import", "--to", dsn)
	if code != 0 || !strings.Contains(out, "2 created, 0 updated, 0 unchanged") {
		t.Fatalf("import: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "-f", in, "import", "--to", dsn)
	if code != 0 || !strings.Contains(out, "0 created, 0 updated, 2 unchanged") {
		t.Fatalf("second import: %d\n%s%s", code, out, errOut)
	}
	exported := filepath.Join(dir, "exported.yaml")
	code, out, errOut = runCLI(t, "export", "--from", dsn, "--out", exported)
	if code != 0 {
		t.Fatalf("export: %d\n%s%s", code, out, errOut)
	}
	if fi, err := os.Stat(exported); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("exported file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	want, err := registryfile.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := registryfile.Load(exported)
	if err != nil {
		t.Fatalf("the exported file does not load: %v", err)
	}
	if d := cmp.Diff(want, got, cmpopts.IgnoreUnexported(registry.Registry{}), cmpopts.SortSlices(func(a, b registry.Registry) bool { return a.ID < b.ID })); d != "" {
		t.Fatalf("export of the import differs (-file +exported):\n%s", d)
	}
}

// With --keys the store is sealed: the secret is not in the database; without the keys a
// sealed store is refused for export (it would print ciphertext) and import.
func TestImportSealed(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "registries.yaml")
	os.WriteFile(in, []byte(importFile), 0o600)
	keys := filepath.Join(dir, "keys")
	os.WriteFile(keys, []byte(sealed.GenerateKey("main")+"\n"), 0o600)
	db := filepath.Join(dir, "regcred.db")
	t.Setenv(sealed.EnvKeys, "")
	os.Unsetenv(sealed.EnvKeys)
	if code, out, errOut := runCLI(t, "-f", in, "import", "--to", "sqlite:"+db, "--keys", keys); code != 0 {
		t.Fatalf("import: %d\n%s%s", code, out, errOut)
	}
	s, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := s.Get(context.Background(), "my-ghcr")
	s.Close()
	if id, ok := sealed.KeyIDOf(raw.Fields["token"]); !ok || id != "main" {
		t.Fatalf("the token is stored as %.24q...; want sealed with key main", raw.Fields["token"])
	}
	code, _, errOut := runCLI(t, "export", "--from", "sqlite:"+db, "--out", "-")
	if code != exitUsage || !strings.Contains(errOut, "the store is sealed") {
		t.Fatalf("export of a sealed store without keys: %d %s", code, errOut)
	}
	code, out, errOut := runCLI(t, "export", "--from", "sqlite:"+db, "--out", "-", "--keys", keys)
	if code != 0 || !strings.Contains(out, "ghp_canary_0123456789") {
		t.Fatalf("export with keys: %d\n%s", code, errOut)
	}
	// Rotation: a new first key, the old one kept; reseal moves both records.
	old, _ := os.ReadFile(keys)
	os.WriteFile(keys, []byte(sealed.GenerateKey("next")+"\n"+string(old)), 0o600)
	code, out, errOut = runCLI(t, "reseal", "--store", "sqlite:"+db, "--keys", keys)
	if code != 0 || !strings.Contains(out, "resealed 2 records") {
		t.Fatalf("reseal: %d\n%s%s", code, out, errOut)
	}
	s, err = sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = s.Get(context.Background(), "my-ghcr")
	s.Close()
	if id, _ := sealed.KeyIDOf(raw.Fields["token"]); id != "next" || raw.Version != 1 {
		t.Fatalf("after reseal: key %q, version %d; want key next, version 1", id, raw.Version)
	}
}

// Migrating a platform to PostgreSQL: import from the file, export back the same.
func TestImportExportPostgres(t *testing.T) {
	pg := testenv.StartPostgres(t)
	dsn := pg.DSN(pg.Database(t, "cli"))
	dir := t.TempDir()
	in := filepath.Join(dir, "registries.yaml")
	os.WriteFile(in, []byte(importFile), 0o600)
	if code, out, errOut := runCLI(t, "-f", in, "import", "--to", dsn); code != 0 || !strings.Contains(out, "2 created") {
		t.Fatalf("import: %d\n%s%s", code, out, errOut)
	}
	exported := filepath.Join(dir, "exported.yaml")
	if code, out, errOut := runCLI(t, "export", "--from", dsn, "--out", exported); code != 0 {
		t.Fatalf("export: %d\n%s%s", code, out, errOut)
	}
	want, _ := registryfile.Load(in)
	got, err := registryfile.Load(exported)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, cmpopts.IgnoreUnexported(registry.Registry{}), cmpopts.SortSlices(func(a, b registry.Registry) bool { return a.ID < b.ID })); d != "" {
		t.Fatalf("(-file +exported):\n%s", d)
	}
}
