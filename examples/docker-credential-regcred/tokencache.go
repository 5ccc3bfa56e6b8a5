package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/regcred/regcred/internal/atomicfile"
	"github.com/regcred/regcred/internal/boundedfile"
	"github.com/regcred/regcred/providers/cache"
	"github.com/regcred/regcred/registry"
)

// EnvCache turns the on-disk token cache off when set to "off" (every get then fetches a
// token, as before the cache).
const EnvCache = "REGCRED_CREDHELPER_CACHE"

// cacheFormat is the version of the cache files; another version is ignored and replaced.
const cacheFormat = 1

// maxCacheFile bounds a cache file; a larger one is not ours and is replaced.
const maxCacheFile = 64 << 10

// tokenCache keeps the short-lived credentials of token kinds (ECR, ACR with a tenant,
// GCR/GAR access tokens, Kubernetes tokens) on disk between helper processes: docker runs
// the helper once per registry access, so an in-process cache would fetch a token on
// every docker command.
//
// Rules:
//   - Where: $XDG_CACHE_HOME/regcred/credhelper (os.UserCacheDir: ~/.cache on Linux,
//     ~/Library/Caches on macOS), a 0700 directory owned by the user, one 0600 file per
//     registry. A directory with looser modes is tightened; one owned by someone else
//     turns the cache off.
//   - Key: a file per registries file (its absolute path), registry ID and record version.
//     Inside, beside the credentials, a salted SHA-256 of the record's kind, server,
//     fields and TLS settings: an edit of the record (new keys, another region) misses even
//     though the file's records always carry version 1. File names hold no secret;
//     secrets are only inside the files.
//   - Expiry as providers/cache: an entry is served until its refresh point (the cache's
//     rule: 80% of the lifetime or 5 minutes before expiry, whichever comes first), then
//     refetched; when the refetch fails the old value is served until its real expiry,
//     never after. Only values with an expiry are stored. A clock that went back more
//     than a minute since the fetch makes the entry due.
//   - Writes are atomic (internal/atomicfile). A file that is not a regular 0600 file of
//     the user (a symlink, another mode, another owner), too large, not valid JSON or of
//     another format is ignored and replaced.
//   - One fetch for concurrent processes: a fetch holds an advisory lock on the entry
//     (flock on a .lock file beside it) and re-reads the entry under it, so parallel
//     pulls of a compose project fetch one token.
type tokenCache struct {
	dir    string // 0700
	config string // absolute path of the registries file
	now    func() time.Time
}

// openTokenCache prepares the cache directory, or returns nil (no cache) when it is off or
// cannot be made safe.
func openTokenCache(configPath string) *tokenCache {
	if strings.EqualFold(os.Getenv(EnvCache), "off") {
		return nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return nil
	}
	dir := filepath.Join(base, "regcred", "credhelper")
	if err := privateDir(filepath.Join(base, "regcred")); err != nil {
		return nil
	}
	if err := privateDir(dir); err != nil {
		return nil
	}
	abs, err := filepath.Abs(configPath)
	if err != nil {
		return nil
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return &tokenCache{dir: dir, config: abs, now: time.Now}
}

// privateDir makes dir (and missing parents) and leaves it a 0700 directory of the user.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is %s, not a directory", dir, boundedfile.Describe(fi.Mode()))
	}
	if !ownedByMe(fi) {
		return fmt.Errorf("%s belongs to another user", dir)
	}
	if fi.Mode().Perm() != 0o700 {
		return os.Chmod(dir, 0o700)
	}
	return nil
}

// cacheEntry is one cache file. Secrets are plain strings here only because this is the
// file's own format; nothing else marshals it.
type cacheEntry struct {
	Format        int       `json:"format"`
	Registry      string    `json:"registry"` // ID, for a person looking at the directory
	Salt          string    `json:"salt"`
	Fingerprint   string    `json:"fingerprint"`
	Username      string    `json:"username,omitempty"`
	Password      string    `json:"password,omitempty"`
	IdentityToken string    `json:"identityToken,omitempty"`
	RegistryToken string    `json:"registryToken,omitempty"`
	FetchedAt     time.Time `json:"fetchedAt"`
	RefreshAt     time.Time `json:"refreshAt"`
	ExpiresAt     time.Time `json:"expiresAt"`
}

func (e *cacheEntry) credentials() registry.Credentials {
	return registry.Credentials{Username: e.Username, Password: registry.Secret(e.Password),
		IdentityToken: registry.Secret(e.IdentityToken), RegistryToken: registry.Secret(e.RegistryToken), ExpiresAt: e.ExpiresAt}
}

// fresh: before its refresh point (and its expiry), on a clock that did not go back.
func (e *cacheEntry) fresh(now time.Time) bool {
	return e.valid(now) && now.Before(e.RefreshAt) && !now.Before(e.FetchedAt.Add(-time.Minute))
}

// valid: before its real expiry.
func (e *cacheEntry) valid(now time.Time) bool {
	return !e.ExpiresAt.IsZero() && now.Before(e.ExpiresAt)
}

// path is the entry file of a record: a hash of the registries file, ID and version.
func (c *tokenCache) path(r registry.Registry) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("docker-credential-regcred\x00%s\x00%s\x00%d", c.config, r.ID, r.Version)))
	return filepath.Join(c.dir, hex.EncodeToString(h[:20])+".json")
}

// fingerprint is a salted hash of what decides the token a record gets.
func fingerprint(salt []byte, r registry.Registry) string {
	h := sha256.New()
	h.Write(salt)
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%t\x00%s\x00", r.Kind, r.Server, r.TLS.Mode, r.TLS.SystemRoots, r.TLS.CABundle)
	names := make([]string, 0, len(r.Fields))
	for k := range r.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(h, "%d:%s%d:%s", len(k), k, len(r.Fields[k]), r.Fields[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// load reads the entry of r; ok is false when there is none usable (missing, not ours,
// corrupt, another format, another record).
func (c *tokenCache) load(r registry.Registry) (*cacheEntry, bool) {
	f, err := os.OpenFile(c.path(r), os.O_RDONLY|oNoFollow, 0)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 || !ownedByMe(fi) {
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(f, maxCacheFile+1))
	if err != nil || len(b) > maxCacheFile {
		return nil, false
	}
	var e cacheEntry
	if json.Unmarshal(b, &e) != nil || e.Format != cacheFormat {
		return nil, false
	}
	salt, err := hex.DecodeString(e.Salt)
	if err != nil || len(salt) < 16 || e.Fingerprint != fingerprint(salt, r) {
		return nil, false
	}
	return &e, true
}

// store writes the entry of r, replacing whatever is there. Errors are dropped: the
// cache only saves fetches.
func (c *tokenCache) store(r registry.Registry, creds registry.Credentials, fetched, refreshAt time.Time) {
	salt := make([]byte, 16)
	rand.Read(salt)
	e := cacheEntry{
		Format: cacheFormat, Registry: r.ID, Salt: hex.EncodeToString(salt), Fingerprint: fingerprint(salt, r),
		Username: creds.Username, Password: creds.Password.Reveal(), IdentityToken: creds.IdentityToken.Reveal(),
		RegistryToken: creds.RegistryToken.Reveal(), FetchedAt: fetched.UTC(), RefreshAt: refreshAt.UTC(), ExpiresAt: creds.ExpiresAt.UTC(),
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	p := c.path(r)
	// atomicfile follows a symlink to its target: the entry's own path must not be one.
	if fi, err := os.Lstat(p); err == nil && !fi.Mode().IsRegular() {
		if err := os.Remove(p); err != nil {
			return
		}
	}
	_ = atomicfile.Write(p, b)
}

// diskCached serves a token kind's credentials from the token cache.
type diskCached struct {
	open  func() *tokenCache // opened on first use: a file of static registries never touches the disk
	r     registry.Registry  // the full record: its fields make the fingerprint
	inner registry.Provider  // providers.For's in-process cache over the token endpoint
}

var _ registry.Provider = (*diskCached)(nil)

// Credentials returns the cached value while it is fresh; otherwise it fetches (one
// process at a time per entry) and stores the answer.
func (d *diskCached) Credentials(ctx context.Context) (registry.Credentials, error) {
	c := d.open()
	if c == nil {
		return d.inner.Credentials(ctx)
	}
	if e, ok := c.load(d.r); ok && e.fresh(c.now()) {
		return e.credentials(), nil
	}
	unlock := lockFile(ctx, strings.TrimSuffix(c.path(d.r), ".json")+".lock")
	defer unlock()
	old, ok := c.load(d.r) // another process may have fetched while this one waited
	if ok && old.fresh(c.now()) {
		return old.credentials(), nil
	}
	start := c.now()
	creds, err := d.inner.Credentials(ctx)
	if err != nil {
		if ok && old.valid(c.now()) {
			return old.credentials(), nil // a failed refresh never drops a working value
		}
		return creds, err
	}
	if creds.ExpiresAt.IsZero() || !start.Before(creds.ExpiresAt) {
		return creds, nil // never-expiring values are not written to disk
	}
	at, _ := cache.RefreshAt(d.inner)
	if at.IsZero() || !at.Before(creds.ExpiresAt) {
		at = refreshTime(start, creds.ExpiresAt)
	}
	c.store(d.r, creds, start, at)
	return creds, nil
}

// refreshTime is providers/cache's rule with its defaults, for a provider that is not a
// cache.New (the helper only disk-caches those, so this is a fallback).
func refreshTime(start, exp time.Time) time.Time {
	at := start.Add(time.Duration(float64(exp.Sub(start)) * cache.DefaultShare))
	if m := exp.Add(-cache.DefaultMinMargin); m.After(start) && m.Before(at) {
		at = m
	}
	return at
}

// withTokenCache wraps the factory so token kinds go through the disk cache of the
// registries file at configPath, opened when a token is first asked for.
func withTokenCache(configPath string, f registry.ProviderFactory) registry.ProviderFactory {
	open := sync.OnceValue(func() *tokenCache { return openTokenCache(configPath) })
	return func(r registry.Registry) (registry.Provider, error) {
		p, err := f(r)
		if err != nil || !cache.IsCached(p) {
			return p, err
		}
		return &diskCached{open: open, r: r, inner: p}, nil
	}
}
