package dockerconfig

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/regcred/regcred/registry"
)

// wireEntry is an auths entry as JSON carries it. Field names match case-insensitively, as
// they do for docker (encoding/json).
type wireEntry struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	Email         string `json:"email"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// entryFields are the keys that make a top-level object look like a legacy .dockercfg entry.
var entryFields = [...]string{"auth", "username", "password", "email", "identitytoken", "registrytoken"}

// Decode reads a docker config.json, a Kubernetes .dockerconfigjson or a legacy .dockercfg
// from r. Empty input (or JSON null) is an empty config. See the package documentation for
// the rules; errors are *FormatError.
func Decode(r io.Reader) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("dockerconfig: read: %w", err)
	}
	return Parse(data)
}

// Parse is Decode for a document already in memory.
func Parse(data []byte) (*Config, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return New(), nil
	}
	if cfg, ok := parseFast(data); ok {
		return cfg, nil
	}
	return parseSlow(data)
}

// parseFast reads a well-formed config.json in one streaming pass, decoding "auths"
// straight into wire entries. It gives up (ok false) on anything else: a legacy
// .dockercfg, a document without auths, credHelpers or credsStore, and every error. Then
// parseSlow, which defines the semantics, decodes the document and words the error;
// FuzzDecode checks that both agree.
func parseFast(data []byte) (cfg *Config, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	cfg = &Config{}
	var wire map[string]wireEntry
	modern := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key := t.(string) // object keys are always strings
		switch key {
		case "auths":
			var w map[string]wireEntry // a fresh value per occurrence: the last one wins
			if dec.Decode(&w) != nil {
				return nil, false
			}
			wire, modern = w, true
		case "credHelpers":
			var h map[string]string
			if dec.Decode(&h) != nil {
				return nil, false
			}
			cfg.CredHelpers, modern = h, true
		case "credsStore":
			var s string
			if dec.Decode(&s) != nil {
				return nil, false
			}
			cfg.CredsStore, modern = s, true
		default:
			var raw json.RawMessage
			if dec.Decode(&raw) != nil {
				return nil, false
			}
			var b bytes.Buffer
			if json.Compact(&b, raw) != nil {
				return nil, false
			}
			if cfg.Extra == nil {
				cfg.Extra = map[string]json.RawMessage{}
			}
			cfg.Extra[key] = b.Bytes()
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF || !modern {
		return nil, false
	}
	if len(cfg.CredHelpers) == 0 {
		cfg.CredHelpers = nil
	}
	cfg.Auths = make(map[string]AuthEntry, len(wire))
	for k, w := range wire {
		e, err := w.entry(k)
		if err != nil {
			return nil, false
		}
		cfg.Auths[k] = e
	}
	return cfg, true
}

// parseSlow decodes level by level through json.RawMessage, which lets it recognise a
// legacy .dockercfg and name the entry and field of every error.
func parseSlow(data []byte) (*Config, error) {
	cfg := New()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, jsonError("", "", err)
	}
	_, hasAuths := top["auths"]
	_, hasHelpers := top["credHelpers"]
	_, hasStore := top["credsStore"]
	if !hasAuths && !hasHelpers && !hasStore && isLegacy(top) {
		var first error
		firstKey := ""
		for k, raw := range top {
			e, err := decodeEntry(k, raw)
			if err != nil {
				if first == nil || k < firstKey {
					first, firstKey = err, k
				}
				continue
			}
			cfg.Auths[k] = e
		}
		if first != nil {
			return nil, first
		}
		return cfg, nil
	}
	for k, raw := range top {
		switch k {
		case "auths":
			if err := decodeAuths(cfg, raw); err != nil {
				return nil, err
			}
		case "credHelpers":
			var h map[string]string
			if err := json.Unmarshal(raw, &h); err != nil {
				return nil, helperError(raw, err)
			}
			if len(h) > 0 {
				cfg.CredHelpers = h
			}
		case "credsStore":
			if err := json.Unmarshal(raw, &cfg.CredsStore); err != nil {
				return nil, jsonError("", "credsStore", err)
			}
		default:
			var b bytes.Buffer
			if err := json.Compact(&b, raw); err != nil { // cannot happen: raw is valid JSON
				return nil, jsonError("", k, err)
			}
			if cfg.Extra == nil {
				cfg.Extra = map[string]json.RawMessage{}
			}
			cfg.Extra[k] = b.Bytes()
		}
	}
	return cfg, nil
}

// isLegacy reports whether top is a .dockercfg: a non-empty flat map whose every value is
// an object with at least one entry field.
func isLegacy(top map[string]json.RawMessage) bool {
	if len(top) == 0 {
		return false
	}
	for _, raw := range top {
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil || fields == nil {
			return false
		}
		has := false
		for _, f := range entryFields {
			if _, ok := fields[f]; ok {
				has = true
				break
			}
		}
		if !has {
			return false
		}
	}
	return true
}

// decodeAuths fills cfg.Auths from the "auths" object: one pass into wire entries, and a
// slower pass entry by entry only to say precisely what is wrong.
func decodeAuths(cfg *Config, raw json.RawMessage) error {
	var wire map[string]wireEntry
	if err := json.Unmarshal(raw, &wire); err != nil {
		var entries map[string]json.RawMessage
		if err2 := json.Unmarshal(raw, &entries); err2 != nil {
			return jsonError("", "auths", err2)
		}
		var first error
		firstKey := ""
		for k, r := range entries {
			if _, err := decodeEntry(k, r); err != nil && (first == nil || k < firstKey) {
				first, firstKey = err, k
			}
		}
		if first != nil {
			return first
		}
		return jsonError("", "auths", err)
	}
	var first error
	firstKey := ""
	for k, w := range wire {
		e, err := w.entry(k)
		if err != nil {
			if first == nil || k < firstKey {
				first, firstKey = err, k
			}
			continue
		}
		cfg.Auths[k] = e
	}
	return first
}

// decodeEntry decodes one entry, naming the field that is wrong.
func decodeEntry(key string, raw json.RawMessage) (AuthEntry, error) {
	var w wireEntry
	if err := json.Unmarshal(raw, &w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			field := te.Field
			if i := strings.LastIndexByte(field, '.'); i >= 0 {
				field = field[i+1:]
			}
			return AuthEntry{}, &FormatError{Op: "decode", Key: key, Field: strings.ToLower(field),
				Reason: "is a JSON " + jsonKind(te.Value) + ", want a string"}
		}
		return AuthEntry{}, jsonError(key, "", err)
	}
	return w.entry(key)
}

// entry applies the rules: auth wins over username/password, NULs around the password are
// dropped, a username may not contain a colon, <token> means an identity token.
func (w wireEntry) entry(key string) (AuthEntry, error) {
	e := AuthEntry{
		Username:      w.Username,
		Password:      registry.Secret(w.Password),
		Email:         w.Email,
		IdentityToken: registry.Secret(w.IdentityToken),
		RegistryToken: registry.Secret(w.RegistryToken),
	}
	if w.Auth != "" {
		user, pass, reason := decodeAuth(w.Auth)
		if reason != "" {
			return AuthEntry{}, &FormatError{Op: "decode", Key: key, Field: "auth", Reason: reason}
		}
		e.Username, e.Password = user, registry.Secret(pass)
	}
	e.Password = registry.Secret(strings.Trim(string(e.Password), "\x00"))
	if strings.Contains(e.Username, ":") {
		return AuthEntry{}, &FormatError{Op: "decode", Key: key, Field: "username",
			Reason: "contains a colon, which basic auth cannot carry (RFC 7617)"}
	}
	return normalize(e), nil
}

// decodeAuth splits an "auth" value into username and password at the first colon. It
// returns a reason instead of an error so callers can name the entry; the reason never
// quotes the value.
func decodeAuth(s string) (user, pass, reason string) {
	enc := base64.RawStdEncoding
	if strings.HasSuffix(strings.TrimRight(s, "\r\n"), "=") {
		enc = base64.StdEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		reason = "is not valid base64"
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			reason += " (at byte " + strconv.FormatInt(int64(ce), 10) + ")"
		}
		if strings.ContainsAny(s, "-_") {
			return "", "", reason + ": it uses the URL-safe alphabet; docker reads standard base64 (+ and /) only"
		}
		return "", "", reason + ": want standard base64 of username:password, padded or not"
	}
	if !utf8.Valid(b) {
		return "", "", "does not decode to UTF-8 text; want base64 of username:password"
	}
	user, pass, ok := strings.Cut(string(b), ":")
	if !ok {
		return "", "", "does not decode to username:password (no colon)"
	}
	if user == "" {
		return "", "", "decodes to an empty username (docker refuses it); want base64 of username:password"
	}
	return user, pass, ""
}

// jsonError turns an encoding/json error into a FormatError without quoting the input.
func jsonError(key, field string, err error) error {
	fe := &FormatError{Op: "decode", Key: key, Field: field}
	subject := ""
	if key == "" && field == "" {
		subject = "the document "
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		fe.Offset = se.Offset
		fe.Reason = subject + "is not valid JSON (syntax error at byte offset " + strconv.FormatInt(se.Offset, 10) + ")"
	case errors.As(err, &te):
		want := "an object"
		if te.Type != nil && te.Type.Kind() == reflect.String {
			want = "a string"
		}
		fe.Reason = subject + "is a JSON " + jsonKind(te.Value) + ", want " + want
	default:
		fe.Reason = subject + "cannot be read: " + err.Error()
	}
	return fe
}

// helperError names the credHelpers host whose value is not a string.
func helperError(raw json.RawMessage, err error) error {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return jsonError("", "credHelpers", err)
	}
	for host, v := range m {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return &FormatError{Op: "decode", Key: host, Field: "credHelpers",
				Reason: "the helper name is a JSON " + rawKind(v) + ", want a string"}
		}
	}
	return jsonError("", "credHelpers", err)
}

// jsonKind keeps the first word of UnmarshalTypeError.Value ("number -5" -> "number") so a
// value never reaches an error text.
func jsonKind(v string) string {
	k, _, _ := strings.Cut(v, " ")
	return k
}

func rawKind(v json.RawMessage) string {
	switch v = bytes.TrimSpace(v); {
	case len(v) == 0:
		return "value"
	case v[0] == '{':
		return "object"
	case v[0] == '[':
		return "array"
	case v[0] == '"':
		return "string"
	case v[0] == 't' || v[0] == 'f':
		return "bool"
	case v[0] == 'n':
		return "null"
	}
	return "number"
}

// Load reads the config file at path. A missing file is an error that wraps
// fs.ErrNotExist (test with errors.Is); an empty file is an empty config.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dockerconfig: load: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("dockerconfig: load %s: %w", path, err)
	}
	return cfg, nil
}
