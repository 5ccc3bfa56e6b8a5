package sealed_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
)

func canary(t *testing.T) string {
	var b [8]byte
	rand.Read(b[:])
	return "CANARY-" + hex.EncodeToString(b[:])
}

// save writes, updates and rotates registries holding the canary through s.
func save(t *testing.T, s registry.Store, secret string) {
	t.Helper()
	ctx := context.Background()
	c := catalog.New(s)
	for _, name := range []string{"harbor", "ghcr"} {
		r := record("", secret)
		r.ID, r.Name, r.Version = "", name, 0
		saved, err := c.Add(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		saved, err = c.Get(ctx, saved.ID)
		if err != nil {
			t.Fatal(err)
		}
		saved.Fields = map[string]string{"username": "robot", "password": secret + "-rotated"}
		if _, err := c.Update(ctx, saved); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.List(ctx)
	if err != nil || len(got) != 2 || got[0].Fields["password"] != secret+"-rotated" {
		t.Fatalf("the store does not give the secrets back: %d records, %v", len(got), err)
	}
}

// filesContain reports which of the database's files hold needle.
func filesContain(t *testing.T, db string, needle string) []string {
	t.Helper()
	var hits []string
	for _, f := range []string{db, db + "-wal", db + "-journal"} {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(needle)) {
			hits = append(hits, filepath.Base(f))
		}
	}
	return hits
}

// The canary: secrets saved through a sealed SQLite store appear nowhere in the database
// file or its WAL. The same writes through the plain store do (so the search can find
// them).
func TestCanarySQLite(t *testing.T) {
	secret := canary(t)
	dir := t.TempDir()
	sealedDB := filepath.Join(dir, "sealed.db")
	save(t, wrap(t, openSQLite(t, sealedDB), keyring(t, key1)), secret)
	if _, err := os.Stat(sealedDB + "-wal"); err != nil {
		t.Fatalf("no WAL to search: %v", err)
	}
	if hits := filesContain(t, sealedDB, secret); len(hits) > 0 {
		t.Fatalf("the canary secret is in %v", hits)
	}
	plainDB := filepath.Join(dir, "plain.db")
	save(t, openSQLite(t, plainDB), secret)
	if hits := filesContain(t, plainDB, secret); len(hits) == 0 {
		t.Fatal("the control (plain store) has no canary either: the search proves nothing")
	}
}

// The canary: nothing of it in a pg_dump of a sealed PostgreSQL store; the plain control's
// dump has it.
func TestCanaryPostgres(t *testing.T) {
	secret := canary(t)
	pg := testenv.StartPostgres(t)
	sealedDB := pg.Database(t, "canary_sealed")
	save(t, wrap(t, openPostgres(t, pg.DSN(sealedDB)), keyring(t, key1)), secret)
	dump, err := pg.Dump(sealedDB)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dump, []byte("regcred_registries")) || !bytes.Contains(dump, []byte("regcred:sealed:v1:one:")) {
		t.Fatal("the dump has no sealed records: it proves nothing")
	}
	if bytes.Contains(dump, []byte(secret)) {
		t.Fatal("the canary secret is in the pg_dump of the sealed store")
	}
	plainDB := pg.Database(t, "canary_plain")
	save(t, openPostgres(t, pg.DSN(plainDB)), secret)
	dump, err = pg.Dump(plainDB)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dump, []byte(secret)) {
		t.Fatal("the control (plain store) dump has no canary either: the search proves nothing")
	}
}
