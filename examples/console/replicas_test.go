package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/store/sealed"
)

// TestReplicasSharePostgres: two consoles on one PostgreSQL database with the shared key
// see each other's registries, users and sessions; a third with another key is refused
// before it reads anything.
func TestReplicasSharePostgres(t *testing.T) {
	pg := testenv.StartPostgres(t)
	dsn := pg.DSN(pg.Database(t, "console"))
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "shared.key")
	if err := os.WriteFile(keyFile, []byte(sealed.GenerateKey("k1")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	replica := func(key string) (*testConsole, error) {
		st, err := openStorage(ctx, config{store: dsn, keyFile: key})
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() { st.Close() })
		a, err := newApp(ctx, st, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		if gen, err := a.ensureAdmin(ctx, adminPassword); err != nil || gen != "" {
			t.Fatalf("ensureAdmin: %v", err)
		}
		srv := httptest.NewServer(a.Handler())
		t.Cleanup(srv.Close)
		return &testConsole{t: t, app: a, st: st, srv: srv, dir: dir}, nil
	}
	one, err := replica(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	two, err := replica(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "replicated-secret-31"
	status, _, body := one.api("admin", adminPassword, "POST", "/api/v1/registries",
		map[string]any{"name": "shared", "type": "Custom", "url": "registry.example.com", "credentials": map[string]string{"username": "u", "password": secret}})
	if status != http.StatusCreated {
		t.Fatalf("create on one: %d %s", status, body)
	}
	var rec apiRegistry
	json.Unmarshal(body, &rec)
	status, _, body = two.api("admin", adminPassword, "GET", "/api/v1/registries/"+rec.ID, nil)
	if status != 200 || !strings.Contains(string(body), `"shared"`) || strings.Contains(string(body), secret) {
		t.Fatalf("get on two: %d %s", status, body)
	}
	if full, err := two.app.cat.Reveal(asAdmin(), rec.ID); err != nil || full.Fields["password"] != secret {
		t.Errorf("two does not open the sealed secret: %v", err)
	}
	// A user made on one logs in on two; a session of one is good on two.
	b := one.login("admin", adminPassword)
	b.get("/users")
	if status, _ := b.post("/users", url2("username", "carol", "password", "carol-password-1")); status != 200 {
		t.Fatalf("create carol on one: %d", status)
	}
	two.login("carol", "carol-password-1")
	req, _ := http.NewRequest("GET", two.srv.URL+"/registries", nil)
	for _, c := range b.http.Jar.Cookies(mustURL(one.srv.URL)) {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/registries" {
		t.Errorf("one's session on two: %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}
	// Another key: refused.
	otherKey := filepath.Join(dir, "other.key")
	os.WriteFile(otherKey, []byte(sealed.GenerateKey("k2")+"\n"), 0o600)
	if _, err := replica(otherKey); !errors.Is(err, sealed.ErrKeyMismatch) {
		t.Errorf("a replica with another key: %v, want ErrKeyMismatch", err)
	}
}
