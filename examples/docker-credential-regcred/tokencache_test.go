package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	ecrHost    = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
)

// cacheSetup is one user's machine: a registries file with an ECR registry (the default AWS
// chain, from the environment), a cache directory and the fake token endpoint.
type cacheSetup struct {
	t     *testing.T
	bin   string
	fake  *fakeECR
	cfg   string
	cache string // $XDG_CACHE_HOME
	env   []string
}

func newCacheSetup(t *testing.T, bin string) *cacheSetup {
	s := &cacheSetup{t: t, bin: bin, fake: newFakeECR(t), cache: t.TempDir()}
	s.cfg = filepath.Join(t.TempDir(), "registries.yaml")
	s.writeConfig("")
	home := t.TempDir()
	s.env = []string{
		"REGCRED_CONFIG=" + s.cfg, "HOME=" + home, "XDG_CACHE_HOME=" + s.cache,
		"AWS_ACCESS_KEY_ID=" + testKeyID, "AWS_SECRET_ACCESS_KEY=" + testSecret,
		"AWS_ENDPOINT_URL_ECR=" + s.fake.srv.URL, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
	}
	return s
}

func (s *cacheSetup) writeConfig(extra string) {
	body := "registries:\n  - name: prod ecr\n    type: ECR\n" + extra + "    credentials:\n      region: us-east-1\n"
	if err := os.WriteFile(s.cfg, []byte(body), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// get runs one `docker-credential-regcred get` for the ECR host and returns the secret.
func (s *cacheSetup) get() string {
	s.t.Helper()
	out, code := helperProc(s.t, s.bin, s.env, strings.NewReader(ecrHost+"\n"), "get")
	if code != 0 {
		s.t.Fatalf("get: exit %d: %s", code, out)
	}
	var c struct{ ServerURL, Username, Secret string }
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.Username != "AWS" {
		s.t.Fatalf("get answered %q: %v", out, err)
	}
	return c.Secret
}

// entries returns the cache files (not the lock files).
func (s *cacheSetup) entries() []string {
	s.t.Helper()
	m, _ := filepath.Glob(filepath.Join(s.cache, "regcred", "credhelper", "*.json"))
	return m
}

func (s *cacheSetup) entry() string {
	s.t.Helper()
	e := s.entries()
	if len(e) != 1 {
		s.t.Fatalf("cache files %v, want one", e)
	}
	return e[0]
}

// edit changes the cache file the way time passing would.
func (s *cacheSetup) edit(f func(e *cacheEntry)) {
	s.t.Helper()
	p := s.entry()
	b, err := os.ReadFile(p)
	if err != nil {
		s.t.Fatal(err)
	}
	var e cacheEntry
	if err := json.Unmarshal(b, &e); err != nil {
		s.t.Fatal(err)
	}
	f(&e)
	b, _ = json.Marshal(e)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		s.t.Fatal(err)
	}
}

func token(n int) string { return fmt.Sprintf("ECRTOKEN%04d", n) }

// testTokenCache: docker runs the helper once per call; before the disk
// cache every get fetched a token (5 gets, 5 GetAuthorizationToken calls).
func testTokenCache(t *testing.T, bin string) {

	t.Run("N gets fetch one token", func(t *testing.T) {
		s := newCacheSetup(t, bin)
		for i := range 5 {
			if got := s.get(); got != token(1) {
				t.Fatalf("get %d: secret %q, want %q", i+1, got, token(1))
			}
		}
		if n := s.fake.count(); n != 1 {
			t.Errorf("5 gets fetched %d tokens, want 1", n)
		}
	})

	t.Run("modes and contents", func(t *testing.T) {
		s := newCacheSetup(t, bin)
		s.get()
		for _, d := range []string{filepath.Join(s.cache, "regcred"), filepath.Join(s.cache, "regcred", "credhelper")} {
			fi, err := os.Stat(d)
			if err != nil {
				t.Errorf("no cache directory: %v", err)
			} else if fi.Mode().Perm() != 0o700 {
				t.Errorf("%s: mode %v, want a 0700 directory", d, fi.Mode())
			}
		}
		p := s.entry()
		fi, _ := os.Stat(p)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", p, fi.Mode())
		}
		b, _ := os.ReadFile(p)
		if !strings.Contains(string(b), token(1)) {
			t.Errorf("cache file does not hold the token: %s", b)
		}
		if strings.Contains(string(b), testSecret) || strings.Contains(string(b), testKeyID) {
			t.Errorf("cache file holds the AWS keys: %s", b)
		}
		if strings.Contains(p, "prod") || strings.Contains(p, token(1)) {
			t.Errorf("file name %s tells what is inside", p)
		}
	})

	t.Run("parallel gets fetch one token", func(t *testing.T) {
		s := newCacheSetup(t, bin)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() { s.get() })
		}
		wg.Wait()
		if n := s.fake.count(); n != 1 {
			t.Errorf("4 parallel gets fetched %d tokens, want 1", n)
		}
	})

	t.Run("expired entry is refetched", func(t *testing.T) {
		s := newCacheSetup(t, bin)
		s.get()
		s.edit(func(e *cacheEntry) {
			e.FetchedAt = time.Now().Add(-13 * time.Hour)
			e.RefreshAt = time.Now().Add(-3 * time.Hour)
			e.ExpiresAt = time.Now().Add(-time.Hour)
		})
		s.fake.setFail(true) // an expired token is never served, even when the refresh fails
		if out, code := helperProc(t, bin, s.env, strings.NewReader(ecrHost+"\n"), "get"); code != 1 || strings.Contains(out, token(1)) {
			t.Fatalf("expired entry with the endpoint down: exit %d %q; want an error", code, out)
		}
		s.fake.setFail(false)
		if got := s.get(); got != token(2) {
			t.Errorf("after expiry: %q, want a new token %q", got, token(2))
		}
		if got := s.get(); got != token(2) || s.fake.count() != 2 {
			t.Errorf("the new token is not cached: %q, %d tokens", got, s.fake.count())
		}
	})

	t.Run("refreshed early, old value kept while the refresh fails", func(t *testing.T) {
		s := newCacheSetup(t, bin)
		s.get()
		// The refresh point follows providers/cache: 80% of 12 h, or 5 min before expiry.
		s.edit(func(e *cacheEntry) {
			if d := e.RefreshAt.Sub(e.FetchedAt); d < 9*time.Hour || d > 10*time.Hour {
				t.Errorf("refresh point %v after the fetch, want 80%% of 12 h", d)
			}
			e.RefreshAt = time.Now().Add(-time.Minute) // due, still valid for hours
		})
		s.fake.setFail(true)
		if got := s.get(); got != token(1) {
			t.Errorf("due entry with the endpoint down: %q, want the still-valid %q", got, token(1))
		}
		s.fake.setFail(false)
		if got := s.get(); got != token(2) {
			t.Errorf("due entry: %q, want the refreshed %q", got, token(2))
		}
		if n := s.fake.count(); n != 2 {
			t.Errorf("%d tokens issued, want 2", n)
		}
	})

	t.Run("corrupt, foreign-mode and symlinked entries are replaced", func(t *testing.T) {
		s := newCacheSetup(t, bin)
		s.get()
		p := s.entry()
		want := 1
		for _, spoil := range []struct {
			name string
			do   func() error
		}{
			{"corrupt", func() error { return os.WriteFile(p, []byte("{not json"), 0o600) }},
			{"group-readable", func() error { return os.Chmod(p, 0o640) }},
			{"world-readable", func() error { return os.Chmod(p, 0o644) }},
			{"symlink", func() error {
				other := filepath.Join(t.TempDir(), "planted.json")
				b, _ := os.ReadFile(p)
				os.WriteFile(other, b, 0o600)
				os.Remove(p)
				return os.Symlink(other, p)
			}},
		} {
			if err := spoil.do(); err != nil {
				t.Fatal(err)
			}
			want++
			if got := s.get(); got != token(want) {
				t.Errorf("%s entry: got %q, want a fresh %q", spoil.name, got, token(want))
			}
			fi, err := os.Lstat(p)
			if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s entry not replaced by a 0600 file: %v %v", spoil.name, fi.Mode(), err)
			}
			if got := s.get(); got != token(want) {
				t.Errorf("%s entry: replacement not served: %q", spoil.name, got)
			}
		}
	})

	t.Run("a loose cache directory is tightened", func(t *testing.T) {
		s := newCacheSetup(t, bin)
		dir := filepath.Join(s.cache, "regcred", "credhelper")
		os.MkdirAll(dir, 0o755)
		os.Chmod(dir, 0o755)
		s.get()
		if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
			t.Errorf("cache directory mode %v, want 0700", fi.Mode())
		}
	})

	t.Run("an edited record misses", func(t *testing.T) {
		s := newCacheSetup(t, bin)
		s.get()
		s.writeConfig("    url: " + ecrHost + "\n") // the same ID and version, another server
		if got := s.get(); got != token(2) {
			t.Errorf("after editing the record: %q, want a new token", got)
		}
	})

	t.Run("another registries file has its own entries", func(t *testing.T) {
		s := newCacheSetup(t, bin)
		s.get()
		other := filepath.Join(t.TempDir(), "other.yaml")
		b, _ := os.ReadFile(s.cfg)
		os.WriteFile(other, b, 0o600)
		env := append(append([]string(nil), s.env...), "REGCRED_CONFIG="+other)
		out, code := helperProc(t, bin, env, strings.NewReader(ecrHost+"\n"), "get")
		if code != 0 || !strings.Contains(out, token(2)) || len(s.entries()) != 2 {
			t.Errorf("other file: exit %d %q, %d entries; want a token of its own", code, out, len(s.entries()))
		}
	})

	t.Run("off", func(t *testing.T) {
		s := newCacheSetup(t, bin)
		s.env = append(s.env, EnvCache+"=off")
		s.get()
		s.get()
		if n := s.fake.count(); n != 2 || len(s.entries()) != 0 {
			t.Errorf("with the cache off: %d tokens, %d files; want 2 and none", n, len(s.entries()))
		}
	})
}
