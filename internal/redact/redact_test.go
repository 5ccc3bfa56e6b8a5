package redact

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

func TestSetRemovesEveryEncoding(t *testing.T) {
	const user, pass, token = "alice", `pa ss/+&="<w>`, "tok-0123456789"
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	var fromHeaders Set
	fromHeaders.AddAuthorization("Basic " + basic)
	fromHeaders.AddAuthorization("Bearer " + token)
	var fromSecrets Set
	fromSecrets.AddBasic(user, pass)
	fromSecrets.Add(token)
	for name, s := range map[string]*Set{"headers": &fromHeaders, "secrets": &fromSecrets} {
		for _, form := range []string{
			pass, basic, strings.TrimRight(basic, "="), base64.URLEncoding.EncodeToString([]byte(user + ":" + pass)),
			url.QueryEscape(pass), url.PathEscape(pass), `pa ss/+\u0026=\"\u003cw\u003e`,
			base64.StdEncoding.EncodeToString([]byte(pass)), token, base64.RawURLEncoding.EncodeToString([]byte(token)),
		} {
			in := "before " + form + " after"
			if got := s.Replace(in, "REDACTED"); got != "before REDACTED after" {
				t.Errorf("%s: Replace(%q) = %q", name, in, got)
			}
		}
	}
}

func TestSetKeepsOrdinaryText(t *testing.T) {
	var s Set
	s.Add("ab") // too short to be told from a word
	s.AddBasic("u", "")
	s.AddAuthorization("garbage")
	if !s.Empty() {
		t.Fatalf("forms %q", s.forms)
	}
	if got := s.Replace("a table about ab", "X"); got != "a table about ab" {
		t.Fatal(got)
	}
}
