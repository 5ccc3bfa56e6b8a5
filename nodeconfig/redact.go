package nodeconfig

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/regcred/regcred/registry"
)

// Secrets in the node's own files. regcred merges into daemon.json and containerd's
// config.toml, which may hold secrets it did not put there (registry auth in containerd's
// CRI configs, a proxy URL with a password): Diff shows those files with every such value
// as REDACTED, and warnings quote no URL's password. Apply writes the real values.

// secretKey reports whether a key names a secret: password, auth, identitytoken,
// registrytoken, token, secret and keys containing them.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	if k == "auth" {
		return true
	}
	for _, s := range []string{"password", "passwd", "token", "secret"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// redactTree replaces the secrets of a decoded TOML or JSON document in place: strings
// under secret keys, and the password of URLs with user info.
func redactTree(key string, v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = redactTree(k, e)
		}
	case []any:
		for i, e := range t {
			t[i] = redactTree(key, e)
		}
	case string:
		if secretKey(key) && t != "" {
			return registry.Redacted
		}
		return redactURL(t)
	}
	return v
}

// redactURL hides the password of a URL with user info ("http://u:p@proxy"); any other
// string is returned as it is.
func redactURL(s string) string {
	if !strings.Contains(s, "@") || !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return strings.Repeat("*", 8) // cannot tell what is secret in it
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), registry.Redacted)
		return u.String()
	}
	return s
}

// redactTOML is a File.redact for a merged TOML file (containerd's config.toml).
func redactTOML(b []byte) []byte {
	doc := map[string]any{}
	if err := toml.Unmarshal(b, &doc); err != nil {
		return []byte("# (not shown: the file does not parse, and it may hold credentials)\n")
	}
	redactTree("", doc)
	out, err := toml.Marshal(doc)
	if err != nil {
		return []byte("# (not shown)\n")
	}
	return out
}

// redactJSON is a File.redact for a merged JSON object (daemon.json): its keys keep their
// order.
func redactJSON(b []byte) []byte {
	obj, err := decodeObject(b)
	if err != nil {
		return []byte("# (not shown: the file does not parse, and it may hold credentials)\n")
	}
	for _, k := range obj.keys {
		var v any
		if err := json.Unmarshal(obj.vals[k], &v); err != nil {
			return []byte("# (not shown)\n")
		}
		if err := obj.set(k, redactTree(k, v)); err != nil {
			return []byte("# (not shown)\n")
		}
	}
	out, err := obj.encode()
	if err != nil {
		return []byte("# (not shown)\n")
	}
	return out
}
