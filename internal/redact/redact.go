package redact

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"sort"
	"strings"
)

// minLen is the shortest text removed.
const minLen = 3

// Set is the texts to remove from what a server sent. The zero Set removes nothing; a Set
// is not safe for concurrent Add.
type Set struct {
	forms  []string
	sorted bool
}

var encodings = [...]*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding}

// Add adds a secret in every encoding (see the package rules).
func (s *Set) Add(secret string) {
	if len(secret) < minLen {
		return
	}
	s.add(secret, url.QueryEscape(secret), url.PathEscape(secret))
	if b, err := json.Marshal(secret); err == nil {
		s.add(string(b[1 : len(b)-1]))
	}
	for _, e := range encodings {
		s.add(e.EncodeToString([]byte(secret)))
	}
}

// AddBasic adds a username and password: the password (Add) and base64 of
// "user:password", the value of their Basic Authorization header.
func (s *Set) AddBasic(user, password string) {
	if password == "" {
		return
	}
	s.Add(password)
	for _, e := range encodings {
		s.add(e.EncodeToString([]byte(user + ":" + password)))
	}
}

// AddAuthorization adds what an Authorization header value carries: a Basic value's
// base64 and the password inside it, a Bearer (or any other scheme's) credential.
func (s *Set) AddAuthorization(header string) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok {
		return
	}
	cred = strings.TrimSpace(cred)
	if strings.EqualFold(scheme, "basic") {
		if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
			user, pass, _ := strings.Cut(string(raw), ":")
			s.AddBasic(user, pass)
		}
	}
	s.Add(cred)
}

func (s *Set) add(forms ...string) {
	for _, f := range forms {
		if len(f) >= minLen {
			s.forms = append(s.forms, f)
			s.sorted = false
		}
	}
}

// Empty reports whether the Set removes nothing.
func (s *Set) Empty() bool { return len(s.forms) == 0 }

// Replace returns text with every form replaced by mark, the longest forms first.
func (s *Set) Replace(text, mark string) string {
	if len(s.forms) == 0 || text == "" {
		return text
	}
	if !s.sorted {
		sort.SliceStable(s.forms, func(i, j int) bool { return len(s.forms[i]) > len(s.forms[j]) })
		s.sorted = true
	}
	for _, f := range s.forms {
		if strings.Contains(text, f) {
			text = strings.ReplaceAll(text, f, mark)
		}
	}
	return text
}
