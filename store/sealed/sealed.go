package sealed

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/regcred/regcred/registry"
)

// Prefix starts every sealed field value: "regcred:sealed:v1:KEYID:WRAPPED-DEK:CIPHERTEXT"
// (both base64, raw URL alphabet).
const Prefix = "regcred:sealed:v1:"

// KeyCheckID is the ID of the record that proves which master keys sealed the store. The
// sealed Store hides it (List, Get, Watch) and refuses to write it; the inner store holds
// it like any record.
const KeyCheckID = "_regcred.sealed.keycheck"

const keyCheckText = "regcred sealed store key check"

// Store seals the secret fields of the records it writes to an inner registry.Store and
// opens them on the way out. It implements registry.Watcher, registry.Rewriter and
// registry.HealthStore by passing through to the inner store (an error wrapping
// errors.ErrUnsupported when the inner store lacks one), and io.Closer (closing the inner
// store when it is one).
type Store struct {
	inner    registry.Store
	keys     KeyProvider
	log      *slog.Logger
	deks     dekCache
	redacted redactedCache // the redacted views of ListRedacted, by version
}

var (
	_ registry.Store       = (*Store)(nil)
	_ registry.Watcher     = (*Store)(nil)
	_ registry.Rewriter    = (*Store)(nil)
	_ registry.HealthStore = (*Store)(nil)
	_ io.Closer            = (*Store)(nil)
)

// Option configures New.
type Option func(*Store)

// WithLogger sets the logger for the store's own messages (a key registered); default:
// discard.
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) {
		if l != nil {
			s.log = l
		}
	}
}

// New wraps inner. It first checks the keys against the store's key-check record (creating
// it in an empty store): every key this process has that the store knows must be the same
// key, at least one must be known (else ErrKeyMismatch: this replica has a different key
// file), and a new current key is registered (the start of a rotation).
func New(ctx context.Context, inner registry.Store, keys KeyProvider, opts ...Option) (*Store, error) {
	if inner == nil || keys == nil {
		return nil, &registry.Error{Op: "open sealed store", Err: &registry.FieldError{Field: "store", Reason: "the inner store and the keys are required"}}
	}
	s := &Store{inner: inner, keys: keys, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	for attempt := 0; ; attempt++ {
		err := s.checkKeys(ctx)
		if errors.Is(err, registry.ErrConflict) && attempt < 5 {
			continue // another replica wrote the check record meanwhile
		}
		if err != nil {
			return nil, &registry.Error{Op: "open sealed store", Err: err}
		}
		return s, nil
	}
}

// checkKeys verifies (and extends) the key-check record: one field "key.ID" per master key
// that ever sealed the store, each the check text sealed with that key.
func (s *Store) checkKeys(ctx context.Context) error {
	rec, err := s.inner.Get(ctx, KeyCheckID)
	exists := err == nil
	if err != nil && !errors.Is(err, registry.ErrNotFound) {
		return err
	}
	var known, ours []string
	for f := range rec.Fields {
		if id, ok := strings.CutPrefix(f, "key."); ok {
			known = append(known, id)
		}
	}
	sort.Strings(known)
	shared := false
	for _, id := range s.keys.KeyIDs() {
		v, ok := rec.Fields["key."+id]
		if !ok {
			continue
		}
		shared = true
		ours = append(ours, id)
		text, err := s.open(ctx, KeyCheckID, "key."+id, v)
		if err != nil || text != keyCheckText {
			return fmt.Errorf("the store's key %q is not this process's key %q (another key under the same ID): give every replica the same key file: %w", id, id, ErrKeyMismatch)
		}
	}
	if exists && !shared {
		return fmt.Errorf("the store was sealed with key(s) %s, this process has %s: give every replica the same key file (keep the old keys in it until a re-seal moved every record): %w",
			strings.Join(known, ", "), strings.Join(s.keys.KeyIDs(), ", "), ErrKeyMismatch)
	}
	cur := s.keys.CurrentKeyID()
	if _, ok := rec.Fields["key."+cur]; ok {
		return nil
	}
	next := rec.Clone()
	if !exists {
		next = registry.Registry{ID: KeyCheckID, Name: "regcred sealed-store key check", Kind: registry.KindCustom, Server: "key-check.regcred.invalid"}
	}
	if next.Fields == nil {
		next.Fields = map[string]string{}
	}
	v, err := s.seal(ctx, KeyCheckID, "key."+cur, keyCheckText)
	if err != nil {
		return err
	}
	next.Fields["key."+cur] = v
	next.Version++
	if err := s.inner.Put(ctx, next); err != nil {
		return err
	}
	s.log.Info("sealed store: registered master key", "key", cur, "known", known)
	return nil
}

// aad binds a sealed value to its record and field.
func aad(id, field string) []byte {
	return []byte("regcred/sealed/v1\x00" + id + "\x00" + field)
}

// seal encrypts one value: a fresh data key (AES-256-GCM) seals the value, the key
// provider wraps the data key; both bound to the record ID and field name.
func (s *Store) seal(ctx context.Context, id, field, value string) (string, error) {
	var dek [32]byte
	rand.Read(dek[:])
	ad := aad(id, field)
	keyID, wrapped, err := s.keys.WrapKey(ctx, dek[:], ad)
	if err != nil {
		return "", fmt.Errorf("field %s: wrap the data key: %w", field, err)
	}
	gcm, err := newGCM(dek[:])
	if err != nil {
		return "", err
	}
	ct := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(value)+gcm.Overhead())
	rand.Read(ct)
	ct = gcm.Seal(ct, ct, []byte(value), ad)
	enc := base64.RawURLEncoding
	return Prefix + keyID + ":" + enc.EncodeToString(wrapped) + ":" + enc.EncodeToString(ct), nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// KeyIDOf returns the key ID of a sealed value ("" and false for a value that is not
// sealed).
func KeyIDOf(v string) (string, bool) {
	rest, ok := strings.CutPrefix(v, Prefix)
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, ":")
	return id, ok
}

// open decrypts one sealed value of record id, field field.
func (s *Store) open(ctx context.Context, id, field, v string) (string, error) {
	rest, ok := strings.CutPrefix(v, Prefix)
	if !ok {
		return "", fmt.Errorf("field %s is not sealed: %w", field, ErrDecrypt)
	}
	// rest is KEYID:WRAPPED:CIPHERTEXT; KEYID:WRAPPED names the data key (cache key).
	i := strings.IndexByte(rest, ':')
	j := -1
	if i >= 0 {
		j = strings.IndexByte(rest[i+1:], ':')
	}
	if i <= 0 || j <= 0 {
		return "", fmt.Errorf("field %s: the sealed value is malformed: %w", field, ErrDecrypt)
	}
	keyID, wrappedB64, ctB64 := rest[:i], rest[i+1:i+1+j], rest[i+2+j:]
	cacheKey := rest[:i+1+j]
	enc := base64.RawURLEncoding
	ad := aad(id, field)
	// The wrapped data key is unique to this value: its opened cipher is cached, so a
	// record read again costs one AES-GCM open, and a KMS is not asked on every read.
	gcm := s.deks.get(cacheKey)
	cached := gcm != nil
	if !cached {
		wrapped, err := enc.DecodeString(wrappedB64)
		if err != nil {
			return "", fmt.Errorf("field %s: the sealed value is malformed: %w", field, ErrDecrypt)
		}
		dek, err := s.keys.UnwrapKey(ctx, keyID, wrapped, ad)
		if err != nil {
			if errors.Is(err, ErrUnknownKey) {
				return "", fmt.Errorf("field %s is sealed with key %q, which this process does not have (it has %s): give every replica the same key file: %w",
					field, keyID, strings.Join(s.keys.KeyIDs(), ", "), err)
			}
			return "", fmt.Errorf("field %s: %w", field, err)
		}
		if gcm, err = newGCM(dek); err != nil {
			return "", err
		}
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	ct := slices.Grow((*bp)[:0], enc.DecodedLen(len(ctB64)))[:enc.DecodedLen(len(ctB64))]
	n, err := enc.Decode(ct, []byte(ctB64))
	*bp = ct
	if err != nil || n < gcm.NonceSize() {
		return "", fmt.Errorf("field %s: %w", field, ErrDecrypt)
	}
	ct = ct[:n]
	pt, err := gcm.Open(ct[gcm.NonceSize():gcm.NonceSize()], ct[:gcm.NonceSize()], ct[gcm.NonceSize():], ad)
	if err != nil {
		return "", fmt.Errorf("field %s: %w", field, ErrDecrypt)
	}
	// Only a data key that opened its value (so it is bound to this record and field) is
	// cached: a value copied from elsewhere never gets a cached cipher.
	if !cached {
		s.deks.put(strings.Clone(cacheKey), gcm)
	}
	out := string(pt)
	clear(pt) // the pooled buffer does not keep the plaintext
	return out, nil
}

// bufPool holds decode buffers for open.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// sealRecord returns a copy of r with every non-empty secret field sealed.
func (s *Store) sealRecord(ctx context.Context, op string, r registry.Registry) (registry.Registry, error) {
	if r.ID == KeyCheckID {
		return r, &registry.Error{Op: op, Registry: r.ID, Err: &registry.FieldError{Field: "id", Reason: "is reserved for the sealed store's key check"}}
	}
	if r.IsRedacted() {
		return r, &registry.Error{Op: op, Registry: r.ID, Err: registry.ErrRedacted}
	}
	out := r.Clone()
	for f, v := range r.Fields {
		if v == "" || !r.IsSecretField(f) {
			continue
		}
		sv, err := s.seal(ctx, r.ID, f, v)
		if err != nil {
			return r, &registry.Error{Op: op, Registry: r.ID, Err: err}
		}
		out.Fields[f] = sv
	}
	return out, nil
}

// openRecord returns r with its sealed secret fields opened. A secret field stored in
// plaintext (written before the store was sealed) is returned as it is; Reseal seals it.
func (s *Store) openRecord(ctx context.Context, op string, r registry.Registry) (registry.Registry, error) {
	for f, v := range r.Fields {
		if !strings.HasPrefix(v, Prefix) || !r.IsSecretField(f) {
			continue
		}
		pt, err := s.open(ctx, r.ID, f, v)
		if err != nil {
			return registry.Registry{}, &registry.Error{Op: op, Registry: r.ID, Err: err}
		}
		r.Fields[f] = pt
	}
	return r, nil
}

// Get implements registry.Store.
func (s *Store) Get(ctx context.Context, id string) (registry.Registry, error) {
	if id == KeyCheckID {
		return registry.Registry{}, &registry.Error{Op: "store get", Registry: id, Err: registry.ErrNotFound}
	}
	r, err := s.inner.Get(ctx, id)
	if err != nil {
		return r, err
	}
	return s.openRecord(ctx, "store get", r)
}

// List implements registry.Store.
func (s *Store) List(ctx context.Context) ([]registry.Registry, error) {
	all, err := s.inner.List(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, r := range all {
		if r.ID == KeyCheckID {
			continue
		}
		r, err := s.openRecord(ctx, "store list", r)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Put implements registry.Store.
func (s *Store) Put(ctx context.Context, r registry.Registry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sr, err := s.sealRecord(ctx, "store put", r)
	if err != nil {
		return err
	}
	return s.inner.Put(ctx, sr)
}

// Delete implements registry.Store.
func (s *Store) Delete(ctx context.Context, id string, version int64) error {
	if id == KeyCheckID {
		return &registry.Error{Op: "store delete", Registry: id, Err: registry.ErrNotFound}
	}
	return s.inner.Delete(ctx, id, version)
}

// Rewrite implements registry.Rewriter through the inner store's.
func (s *Store) Rewrite(ctx context.Context, r registry.Registry) error {
	rw, ok := s.inner.(registry.Rewriter)
	if !ok {
		return unsupported("store rewrite", "Rewriter")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	sr, err := s.sealRecord(ctx, "store rewrite", r)
	if err != nil {
		return err
	}
	return rw.Rewrite(ctx, sr)
}

func unsupported(op, what string) error {
	return &registry.Error{Op: op, Err: fmt.Errorf("the inner store is no registry.%s: %w", what, errors.ErrUnsupported)}
}

// Watch implements registry.Watcher through the inner store's, leaving out the key-check
// record.
func (s *Store) Watch(ctx context.Context) (<-chan registry.Change, error) {
	w, ok := s.inner.(registry.Watcher)
	if !ok {
		return nil, unsupported("store watch", "Watcher")
	}
	in, err := w.Watch(ctx)
	if err != nil {
		return nil, err
	}
	// Forward without a buffer of our own: when the consumer falls behind, this goroutine
	// blocks and the inner feed gives the resync, as its contract says.
	out := make(chan registry.Change)
	go func() {
		defer close(out)
		for c := range in {
			if c.ID == KeyCheckID {
				continue
			}
			select {
			case out <- c:
			case <-ctx.Done():
				for range in { // the inner feed closes its channel once ctx is done
				}
				return
			}
		}
	}()
	return out, nil
}

// Health implements registry.HealthStore through the inner store's.
func (s *Store) Health(ctx context.Context, id string) (registry.Health, error) {
	hs, ok := s.inner.(registry.HealthStore)
	if !ok {
		return registry.Health{}, unsupported("store health", "HealthStore")
	}
	if id == KeyCheckID {
		return registry.Health{}, &registry.Error{Op: "store health", Registry: id, Err: registry.ErrNotFound}
	}
	return hs.Health(ctx, id)
}

// ListHealth implements registry.HealthStore through the inner store's.
func (s *Store) ListHealth(ctx context.Context) (map[string]registry.Health, error) {
	hs, ok := s.inner.(registry.HealthStore)
	if !ok {
		return nil, unsupported("store health", "HealthStore")
	}
	m, err := hs.ListHealth(ctx)
	delete(m, KeyCheckID)
	return m, err
}

// UpdateHealth implements registry.HealthStore through the inner store's.
func (s *Store) UpdateHealth(ctx context.Context, id string, update func(*registry.Health)) error {
	hs, ok := s.inner.(registry.HealthStore)
	if !ok {
		return unsupported("store health", "HealthStore")
	}
	if id == KeyCheckID {
		return &registry.Error{Op: "store health", Registry: id, Err: registry.ErrNotFound}
	}
	return hs.UpdateHealth(ctx, id, update)
}

// Inner is the wrapped store (it holds sealed values).
func (s *Store) Inner() registry.Store { return s.inner }

// Close closes the inner store when it is an io.Closer.
func (s *Store) Close() error {
	if c, ok := s.inner.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// String names the wrapped store and the current key.
func (s *Store) String() string {
	return fmt.Sprintf("sealed.Store{%v, key %s}", s.inner, s.keys.CurrentKeyID())
}

// Format prints String under every verb.
func (s *Store) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue keeps slog from looking inside.
func (s *Store) LogValue() slog.Value { return slog.StringValue(s.String()) }
