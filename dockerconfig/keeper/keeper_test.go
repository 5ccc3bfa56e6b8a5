package keeper_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/dockerconfig"
	"github.com/regcred/regcred/dockerconfig/keeper"
	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
)

func custom(name string) registry.Registry {
	return registry.Registry{Name: name, Kind: registry.KindCustom, Server: name + ".registry.example",
		Fields: map[string]string{"username": "bot", "password": "unused"}}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// TestFileKeeperKeptFresh: the file holds every registry's current token, is
// rewritten (atomically, 0600) before a token expires and after a Catalog change, only
// when its content changes, and keeps what others wrote.
func TestFileKeeperKeptFresh(t *testing.T) {
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	p := fixture.TokenProvider(&fixture.TokenSource{Clock: clk})
	cat := catalog.New(memory.New(),
		catalog.WithProviderFactory(func(registry.Registry) (registry.Provider, error) { return p, nil }))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := cat.Add(ctx, custom("tok"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "docker", "config.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	theirs := `{"auths":{"other.example":{"auth":"b3RoZXI6cHc="}},"credsStore":"desktop","psFormat":"table"}`
	if err := os.WriteFile(path, []byte(theirs), 0o600); err != nil {
		t.Fatal(err)
	}
	d := keeper.New(cat, path, keeper.WithClock(clk), keeper.WithPoll(24*time.Hour))

	wrote, err := d.Reconcile(ctx)
	if err != nil || !wrote {
		t.Fatalf("first pass: wrote %v, %v", wrote, err)
	}
	check := func(password string, want bool) error {
		cfg, err := dockerconfig.Load(path)
		if err != nil {
			return err
		}
		if _, e, _ := cfg.Lookup("other.example"); e.Username != "other" || cfg.CredsStore != "desktop" || cfg.Extra["psFormat"] == nil {
			return fmt.Errorf("others' content lost: %v", cfg)
		}
		_, e, ok := cfg.Lookup("tok.registry.example")
		if !want {
			if ok {
				return fmt.Errorf("entry still there")
			}
			return nil
		}
		if !ok || string(e.Password) != password {
			return fmt.Errorf("entry %v, want password %s", e, password)
		}
		return nil
	}
	if err := check("tok-1", true); err != nil {
		t.Fatal(err)
	}
	ino := inode(t, path)

	// Nothing changed: not rewritten.
	if wrote, err := d.Reconcile(ctx); err != nil || wrote {
		t.Fatalf("second pass: wrote %v, %v; want no write", wrote, err)
	}
	if inode(t, path) != ino {
		t.Fatal("the file was replaced though its content did not change")
	}

	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	bctx, bcancel := context.WithTimeout(ctx, 10*time.Second)
	defer bcancel()
	if err := clk.BlockUntil(bctx, 1); err != nil {
		t.Fatal("Run armed no refresh timer")
	}
	if next, _ := clk.NextDeadline(); !next.Equal(start.Add(48 * time.Minute)) {
		t.Fatalf("refresh at %v, want when the cache refreshes (0.8 of the token's hour)", next)
	}
	clk.Advance(48 * time.Minute) // 12 minutes before the token expires
	fixture.Eventually(t, 10*time.Second, "refreshed before expiry", func() error { return check("tok-2", true) })
	if inode(t, path) == ino {
		t.Fatal("refreshed content written in place, not atomically")
	}

	// A Catalog change (the registry deleted): its entry goes, the others stay.
	if err := cat.Delete(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	fixture.Eventually(t, 10*time.Second, "deleted registry's entry removed", func() error { return check("", false) })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestFileKeeperRefusesToClobber: a file that is not a docker config is left alone.
func TestFileKeeperRefusesToClobber(t *testing.T) {
	cat := catalog.New(memory.New())
	if _, err := cat.Add(context.Background(), custom("clob")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte("not json {"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := keeper.New(cat, path).Reconcile(context.Background())
	if err == nil || !strings.Contains(err.Error(), "left as it is") {
		t.Fatalf("err = %v, want a refusal naming the file", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "not json {" {
		t.Fatalf("file overwritten: %q", b)
	}
}
