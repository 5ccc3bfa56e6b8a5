package sealed_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
	"github.com/regcred/regcred/store/postgres"
	"github.com/regcred/regcred/store/sealed"
	"github.com/regcred/regcred/store/sqlite"
	"github.com/regcred/regcred/store/storetest"
)

func TestMain(m *testing.M) { testenv.PostgresMain(m) }

func keyring(t testing.TB, lines ...string) *sealed.Keyring {
	t.Helper()
	k, err := sealed.ParseKeys(strings.Join(lines, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var (
	key1 = sealed.GenerateKey("one")
	key2 = sealed.GenerateKey("two")
)

func wrap(t testing.TB, inner registry.Store, k sealed.KeyProvider) *sealed.Store {
	t.Helper()
	s, err := sealed.New(context.Background(), inner, k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformanceOverMemory(t *testing.T) {
	inners := map[registry.Store]registry.Store{}
	storetest.Run(t, func(t *testing.T) registry.Store {
		m := memory.New()
		s := wrap(t, m, keyring(t, key1))
		inners[s] = m
		return s
	}, storetest.WithReopen(func(t *testing.T, s registry.Store) registry.Store {
		return wrap(t, inners[s], keyring(t, key1))
	}))
}

func openSQLite(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.WithPollInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformanceOverSQLite(t *testing.T) {
	paths := map[registry.Store]string{}
	storetest.Run(t, func(t *testing.T) registry.Store {
		p := filepath.Join(t.TempDir(), "regcred.db")
		s := wrap(t, openSQLite(t, p), keyring(t, key1))
		paths[s] = p
		return s
	}, storetest.WithReopen(func(t *testing.T, s registry.Store) registry.Store {
		return wrap(t, openSQLite(t, paths[s]), keyring(t, key1))
	}))
}

func openPostgres(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformanceOverPostgres(t *testing.T) {
	dsns := map[registry.Store]string{}
	storetest.Run(t, func(t *testing.T) registry.Store {
		pg := testenv.StartPostgres(t)
		dsn := pg.DSN(pg.Database(t, "sealed"))
		s := wrap(t, openPostgres(t, dsn), keyring(t, key1))
		dsns[s] = dsn
		return s
	}, storetest.WithReopen(func(t *testing.T, s registry.Store) registry.Store {
		return wrap(t, openPostgres(t, dsns[s]), keyring(t, key1))
	}))
}

func record(id, secret string) registry.Registry {
	return registry.Registry{ID: id, Name: id, Kind: registry.KindCustom, Server: "registry.example.com",
		Fields: map[string]string{"username": "robot", "password": secret}, Version: 1}
}

// The inner store holds ciphertext with the key ID; public fields stay readable.
func TestInnerHoldsCiphertext(t *testing.T) {
	ctx := context.Background()
	m := memory.New()
	s := wrap(t, m, keyring(t, key1))
	if err := s.Put(ctx, record("a", "hunter2")); err != nil {
		t.Fatal(err)
	}
	raw, err := m.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := sealed.KeyIDOf(raw.Fields["password"]); !ok || id != "one" {
		t.Fatalf("stored password %.30q...; want sealed with key one", raw.Fields["password"])
	}
	if raw.Fields["username"] != "robot" {
		t.Fatalf("username stored as %q; a public field stays as it is", raw.Fields["username"])
	}
	got, err := s.Get(ctx, "a")
	if err != nil || got.Fields["password"] != "hunter2" {
		t.Fatalf("Get = %q, %v", got.Fields["password"], err)
	}
	// The key-check record is the inner store's, hidden by the sealed one.
	if _, err := m.Get(ctx, sealed.KeyCheckID); err != nil {
		t.Fatalf("no key check in the inner store: %v", err)
	}
	if l, _ := s.List(ctx); len(l) != 1 {
		t.Fatalf("List shows %d records; want 1 (the key check hidden)", len(l))
	}
	if err := s.Put(ctx, registry.Registry{ID: sealed.KeyCheckID, Name: "x", Kind: registry.KindPublic, Version: 2}); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("Put of the key-check ID: %v; want ErrInvalid", err)
	}
}

// A ciphertext moved to another record, or to another field, does not open.
func TestCiphertextBoundToRecordAndField(t *testing.T) {
	ctx := context.Background()
	m := memory.New()
	s := wrap(t, m, keyring(t, key1))
	if err := s.Put(ctx, record("a", "secret-a")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, record("b", "secret-b")); err != nil {
		t.Fatal(err)
	}
	// Reading a caches its opened data key; the binding must hold with the cache too.
	if got, err := s.Get(ctx, "a"); err != nil || got.Fields["password"] != "secret-a" {
		t.Fatalf("Get(a) = %v", err)
	}
	ra, _ := m.Get(ctx, "a")
	rb, _ := m.Get(ctx, "b")
	rb.Fields["password"] = ra.Fields["password"]
	rb.Version++
	if err := m.Put(ctx, rb); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "b"); !errors.Is(err, sealed.ErrDecrypt) {
		t.Fatalf("Get of a record with another record's ciphertext: %v; want ErrDecrypt", err)
	}
	// Field swap within a record.
	ra.Fields["token"] = ra.Fields["password"]
	ra.Kind = registry.KindGHCR
	ra.Fields = map[string]string{"username": "u", "token": ra.Fields["password"]}
	ra.Version++
	if err := m.Put(ctx, ra); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a"); !errors.Is(err, sealed.ErrDecrypt) {
		t.Fatalf("Get of a ciphertext moved to another field: %v; want ErrDecrypt", err)
	}
}

// A replica with another key refuses to start; so does one with the same key ID on other
// key material. A record sealed with a key this process lacks is a clear error, never an
// empty secret.
func TestReplicasMustShareTheKey(t *testing.T) {
	ctx := context.Background()
	m := memory.New()
	s := wrap(t, m, keyring(t, key1))
	if err := s.Put(ctx, record("a", "hunter2")); err != nil {
		t.Fatal(err)
	}
	_, err := sealed.New(ctx, m, keyring(t, key2))
	if !errors.Is(err, sealed.ErrKeyMismatch) || !strings.Contains(err.Error(), "same key file") {
		t.Fatalf("a replica with another key: %v; want ErrKeyMismatch saying what to do", err)
	}
	impostor := sealed.GenerateKey("one") // same ID, other bytes
	_, err = sealed.New(ctx, m, keyring(t, impostor))
	if !errors.Is(err, sealed.ErrKeyMismatch) {
		t.Fatalf("a replica with another key under the same ID: %v; want ErrKeyMismatch", err)
	}
	// A replica that knows key one and has a new current key two starts (rotation) ...
	s2 := wrap(t, m, keyring(t, key2, key1))
	if err := s2.Put(ctx, record("b", "sealed-with-two")); err != nil {
		t.Fatal(err)
	}
	// ... and a replica with key one only cannot open what two sealed: a clear error.
	_, err = s.Get(ctx, "b")
	if !errors.Is(err, sealed.ErrUnknownKey) || !strings.Contains(err.Error(), `"two"`) {
		t.Fatalf("Get of a record sealed with an unknown key: %v; want ErrUnknownKey naming the key", err)
	}
	for _, secret := range []string{"hunter2", "sealed-with-two"} {
		if strings.Contains(fmt.Sprint(err), secret) {
			t.Fatal("the error quotes a secret")
		}
	}
}

// Rotation: the new key seals, the old still opens, Reseal moves every record to the new
// key without a new version and without a change on the feed; then a replica with only the
// old key refuses to start.
func TestRotationAndReseal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inner := openSQLite(t, filepath.Join(t.TempDir(), "regcred.db"))
	old := wrap(t, inner, keyring(t, key1))
	for i := range 20 {
		if err := old.Put(ctx, record(fmt.Sprintf("r%02d", i), fmt.Sprintf("secret-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	// A record written before sealing (plaintext) is sealed by the pass too.
	if err := inner.Put(ctx, record("plain", "was-plaintext")); err != nil {
		t.Fatal(err)
	}
	rotated := wrap(t, inner, keyring(t, key2, key1))
	before, err := rotated.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	feed, err := rotated.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := rotated.Reseal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Resealed != 21 || st.Unchanged != 0 {
		t.Fatalf("Reseal = %+v; want 21 resealed", st)
	}
	after, err := rotated.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range before {
		if before[i].Version != after[i].Version || before[i].Fields["password"] != after[i].Fields["password"] {
			t.Fatalf("%s: version %d -> %d, content changed: %v", before[i].ID, before[i].Version, after[i].Version, before[i].Fields["password"] != after[i].Fields["password"])
		}
	}
	raw, _ := inner.List(ctx)
	for _, r := range raw {
		if id, ok := sealed.KeyIDOf(r.Fields["password"]); r.ID != sealed.KeyCheckID && (!ok || id != "two") {
			t.Fatalf("%s still sealed with %q after the pass", r.ID, id)
		}
	}
	select {
	case c := <-feed:
		t.Fatalf("the re-seal pass announced %+v; a rewrite is no change", c)
	case <-time.After(300 * time.Millisecond):
	}
	if st, err := rotated.Reseal(ctx); err != nil || st.Resealed != 0 || st.Unchanged != 21 {
		t.Fatalf("second pass = %+v, %v; want nothing to do", st, err)
	}
	// The old key is no longer the store's: a replica with only that key refuses.
	if _, err := sealed.New(ctx, inner, keyring(t, key1)); !errors.Is(err, sealed.ErrKeyMismatch) {
		t.Fatalf("a replica with only the retired key: %v; want ErrKeyMismatch", err)
	}
}

func TestKeysNeverPrint(t *testing.T) {
	k := keyring(t, key1)
	material := strings.SplitN(key1, "=", 2)[1]
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k)} {
		if strings.Contains(s, material[:16]) {
			t.Fatalf("the keyring prints its key: %s", s)
		}
	}
}

func TestParseKeysErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "none given"},
		{"one=notbase64!!", "not base64"},
		{"one=" + strings.Repeat("A", 24), "bytes, not 32"},
		{key1 + "\n" + key1, "repeats the key ID"},
		{"bad id=" + strings.SplitN(key1, "=", 2)[1], "not a key ID"},
	} {
		_, err := sealed.ParseKeys(tc.in)
		if !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseKeys(%.20q) = %v; want ErrInvalid saying %q", tc.in, err, tc.want)
		}
	}
	// A bare key gets an ID derived from it.
	bare := strings.SplitN(key1, "=", 2)[1]
	k, err := sealed.ParseKeys("# comment\n" + bare + "\n")
	if err != nil || !strings.HasPrefix(k.CurrentKeyID(), "k-") {
		t.Fatalf("bare key: %v, %v", k, err)
	}
}
