package sealed

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/regcred/regcred/internal/boundedfile"
	"github.com/regcred/regcred/registry"
)

// KeyProvider holds the master keys and wraps data keys with them: the local Keyring, or
// a KMS (wrap = its Encrypt, unwrap = its Decrypt). Implementations are safe for
// concurrent use.
type KeyProvider interface {
	// CurrentKeyID names the master key that wraps new data keys.
	CurrentKeyID() string
	// KeyIDs lists every key the provider can unwrap with, the current one included.
	KeyIDs() []string
	// WrapKey seals a data key with the current master key, binding aad (authenticated,
	// not stored), and returns the ID of the key used.
	WrapKey(ctx context.Context, dek, aad []byte) (keyID string, wrapped []byte, err error)
	// UnwrapKey opens what WrapKey returned under keyID with the same aad. A keyID the
	// provider does not have fails with an error wrapping ErrUnknownKey; a wrapped key
	// that does not open (another key of that ID, tampering) with ErrDecrypt.
	UnwrapKey(ctx context.Context, keyID string, wrapped, aad []byte) ([]byte, error)
}

// Errors of keys and sealed values.
var (
	// ErrUnknownKey: a value is sealed with a master key this process does not have. Give
	// every replica the same keys (old ones too, until a re-seal moved everything).
	ErrUnknownKey = errors.New("sealed with a master key this keyring does not have")
	// ErrDecrypt: a sealed value does not open: another key under the same ID, a value
	// moved to another record or field, or tampering.
	ErrDecrypt = errors.New("the sealed value does not open with its key")
	// ErrKeyMismatch: the store was sealed with other keys than this process has: a
	// replica with a different key file. It refuses to start rather than write records
	// the others cannot open.
	ErrKeyMismatch = errors.New("this process's master keys do not match the store's")
)

// KeySize is the size of a master key: 32 bytes (AES-256).
const KeySize = 32

// EnvKeys is the environment variable KeysFromEnv reads by default.
const EnvKeys = "REGCRED_MASTER_KEYS"

var keyIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Keyring is the local KeyProvider: AES-256 master keys by ID, one of them current. Make
// one with NewKeyring, ParseKeys, KeysFromFile or KeysFromEnv. It never prints a key.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

var _ KeyProvider = (*Keyring)(nil)

// NewKeyring returns a keyring with the keys by ID; current names the one that seals.
func NewKeyring(current string, keys map[string][]byte) (*Keyring, error) {
	k := &Keyring{current: current, aeads: make(map[string]cipher.AEAD, len(keys))}
	for id, key := range keys {
		if !keyIDRE.MatchString(id) {
			// Not quoted: a misplaced key may sit where its ID goes.
			return nil, keyError(&registry.FieldError{Field: "key id", Reason: "is not a key ID", Hint: "use letters, digits, '.', '_' and '-' (at most 64)"})
		}
		if len(key) != KeySize {
			return nil, keyError(&registry.FieldError{Field: "key " + id, Reason: fmt.Sprintf("is %d bytes, not %d", len(key), KeySize), Hint: "generate one with: head -c 32 /dev/urandom | base64"})
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, keyError(err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, keyError(err)
		}
		k.aeads[id] = aead
	}
	if _, ok := k.aeads[current]; !ok {
		return nil, keyError(&registry.FieldError{Field: "current key", Reason: fmt.Sprintf("%q is not among the keys", current)})
	}
	return k, nil
}

func keyError(err error) error { return &registry.Error{Op: "load master keys", Err: err} }

// ParseKeys reads keys in the key-file format: one key per line (or separated by commas),
// "ID=BASE64" or a bare BASE64 (its ID is then derived from the key: "k-" and 8 hex digits
// of a SHA-256 of it). The first key is current; the others still open what they sealed.
// Blank lines and lines starting with # are skipped. A key is 32 bytes, standard base64.
func ParseKeys(text string) (*Keyring, error) {
	keys := map[string][]byte{}
	current := ""
	n := 0
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == ',' }) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		id, b64, ok := strings.Cut(line, "=")
		if !ok || strings.HasSuffix(line, "=") && len(line) == 44 {
			// A bare base64 key ends in "=" (32 bytes encode to 44 chars with one pad).
			id, b64 = "", line
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil {
			return nil, keyError(&registry.FieldError{Field: fmt.Sprintf("key %d", n), Reason: "is not base64", Hint: "write ID=BASE64 of 32 random bytes (head -c 32 /dev/urandom | base64)"})
		}
		line := fmt.Sprintf("key %d", n) // errors name the line, never quote it: it is key material
		if id = strings.TrimSpace(id); id == "" {
			id = DeriveKeyID(key)
		} else if !keyIDRE.MatchString(id) {
			return nil, keyError(&registry.FieldError{Field: line, Reason: "has an ID before '=' that is not a key ID",
				Hint: "write ID=BASE64 (an ID of letters, digits, '.', '_' and '-', at most 64) or a bare key of 44 base64 characters"})
		}
		if len(key) != KeySize {
			return nil, keyError(&registry.FieldError{Field: line, Reason: fmt.Sprintf("is %d bytes, not %d", len(key), KeySize), Hint: "generate one with: head -c 32 /dev/urandom | base64"})
		}
		if _, dup := keys[id]; dup {
			return nil, keyError(&registry.FieldError{Field: fmt.Sprintf("key %d", n), Reason: fmt.Sprintf("repeats the key ID %q", id)})
		}
		keys[id] = key
		if current == "" {
			current = id
		}
	}
	if len(keys) == 0 {
		return nil, keyError(&registry.FieldError{Field: "keys", Reason: "none given", Hint: "give at least one ID=BASE64 line of 32 random bytes"})
	}
	return NewKeyring(current, keys)
}

// DeriveKeyID is the ID of a key given without one.
func DeriveKeyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("regcred sealed key id\x00"), key...))
	return "k-" + hex.EncodeToString(sum[:4])
}

// KeysFromFile reads a key file (ParseKeys's format). The file must be a regular file of
// at most 64 KiB not readable by group or others.
func KeysFromFile(path string) (*Keyring, error) {
	data, err := boundedfile.ReadFile(path, 64<<10)
	if err != nil {
		return nil, &registry.Error{Op: "load master keys", Registry: path, Err: err}
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, &registry.Error{Op: "load master keys", Registry: path, Err: fmt.Errorf("the key file is readable by others (mode %v): chmod 600 it", fi.Mode().Perm())}
	}
	k, err := ParseKeys(string(data))
	if err != nil {
		return nil, &registry.Error{Op: "load master keys", Registry: path, Err: err}
	}
	return k, nil
}

// KeysFromEnv reads keys from an environment variable (EnvKeys when name is ""), in
// ParseKeys's format (commas between keys).
func KeysFromEnv(name string) (*Keyring, error) {
	if name == "" {
		name = EnvKeys
	}
	v, ok := os.LookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return nil, keyError(&registry.FieldError{Field: name, Reason: "is not set", Hint: "export " + name + "=ID=BASE64 (32 random bytes: head -c 32 /dev/urandom | base64)"})
	}
	return ParseKeys(v)
}

// GenerateKey returns a new random key in the key-file format: "ID=BASE64".
func GenerateKey(id string) string {
	key := make([]byte, KeySize)
	rand.Read(key)
	if id == "" {
		id = DeriveKeyID(key)
	}
	return id + "=" + base64.StdEncoding.EncodeToString(key)
}

// CurrentKeyID implements KeyProvider.
func (k *Keyring) CurrentKeyID() string { return k.current }

// KeyIDs implements KeyProvider: sorted.
func (k *Keyring) KeyIDs() []string {
	out := make([]string, 0, len(k.aeads))
	for id := range k.aeads {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// WrapKey implements KeyProvider: AES-256-GCM under the current key, nonce first.
func (k *Keyring) WrapKey(_ context.Context, dek, aad []byte) (string, []byte, error) {
	aead := k.aeads[k.current]
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(dek)+aead.Overhead())
	rand.Read(out)
	return k.current, aead.Seal(out, out, dek, aad), nil
}

// UnwrapKey implements KeyProvider.
func (k *Keyring) UnwrapKey(_ context.Context, keyID string, wrapped, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("key %q: %w", keyID, ErrUnknownKey)
	}
	if len(wrapped) < aead.NonceSize() {
		return nil, fmt.Errorf("key %q: %w", keyID, ErrDecrypt)
	}
	dek, err := aead.Open(nil, wrapped[:aead.NonceSize()], wrapped[aead.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", keyID, ErrDecrypt)
	}
	return dek, nil
}

// String names the keys, never their material.
func (k *Keyring) String() string {
	return fmt.Sprintf("sealed.Keyring{current %s, keys %s}", k.current, strings.Join(k.KeyIDs(), ","))
}

// GoString redacts for %#v.
func (k *Keyring) GoString() string { return k.String() }
