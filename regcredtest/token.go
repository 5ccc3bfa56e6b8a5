package regcredtest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/regcred/regcred/clock"
)

// tokenIssuer issues and checks the registry's bearer tokens: JWTs signed with HS256 by a
// key of its own, with the claims of the distribution token specification (iss, sub, aud,
// exp, nbf, iat, jti and access: [{type, name, actions}]).
type tokenIssuer struct {
	issuer, service string
	life            time.Duration
	clk             clock.Clock
	key             []byte
}

func newTokenIssuer(issuer, service string, lifeSeconds int, clk clock.Clock) *tokenIssuer {
	key := make([]byte, 32)
	rand.Read(key)
	return &tokenIssuer{issuer: issuer, service: service, life: time.Duration(lifeSeconds) * time.Second, clk: clk, key: key}
}

type accessEntry struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

type claims struct {
	Issuer    string        `json:"iss"`
	Subject   string        `json:"sub"`
	Audience  string        `json:"aud"`
	Expiry    int64         `json:"exp"`
	NotBefore int64         `json:"nbf"`
	IssuedAt  int64         `json:"iat"`
	ID        string        `json:"jti"`
	Access    []accessEntry `json:"access"`
	Refresh   bool          `json:"refresh,omitempty"` // a refresh token (the OAuth2 form), never a bearer token
}

var b64 = base64.RawURLEncoding

func (ti *tokenIssuer) sign(c claims) string {
	head := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body, _ := json.Marshal(c)
	msg := head + "." + b64.EncodeToString(body)
	m := hmac.New(sha256.New, ti.key)
	m.Write([]byte(msg))
	return msg + "." + b64.EncodeToString(m.Sum(nil))
}

var errToken = errors.New("invalid token")

func (ti *tokenIssuer) parse(tok string) (claims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return claims{}, errToken
	}
	m := hmac.New(sha256.New, ti.key)
	m.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := b64.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, m.Sum(nil)) {
		return claims{}, errToken
	}
	body, err := b64.DecodeString(parts[1])
	if err != nil {
		return claims{}, errToken
	}
	var c claims
	if err := json.Unmarshal(body, &c); err != nil {
		return claims{}, errToken
	}
	return c, nil
}

// verify checks a bearer token for an action on a repository ("" repo: the base endpoint,
// any valid token).
func (ti *tokenIssuer) verify(tok, repo, action string) error {
	c, err := ti.parse(tok)
	if err != nil {
		return err
	}
	now := ti.clk.Now().Unix()
	switch {
	case c.Refresh:
		return fmt.Errorf("%w: a refresh token is not a bearer token", errToken)
	case c.Issuer != ti.issuer || c.Audience != ti.service:
		return fmt.Errorf("%w: issuer or audience", errToken)
	case now >= c.Expiry:
		return fmt.Errorf("%w: expired", errToken)
	case now < c.NotBefore:
		return fmt.Errorf("%w: not valid yet", errToken)
	}
	if repo == "" {
		return nil
	}
	for _, a := range c.Access {
		if a.Type == "repository" && a.Name == repo && slices.Contains(a.Actions, action) {
			return nil
		}
	}
	return fmt.Errorf("%w: no %s access to %s", errToken, action, repo)
}

// parseScopes reads scope parameters ("repository:team/app:pull,push", several allowed,
// space separated or repeated); the user gets pull and push on any repository it asks for.
func parseScopes(values []string) []accessEntry {
	var out []accessEntry
	for _, v := range values {
		for _, s := range strings.Fields(v) {
			i, j := strings.Index(s, ":"), strings.LastIndex(s, ":")
			if i < 0 || j <= i || s[:i] != "repository" {
				continue // other resource types are not granted (as a registry without them)
			}
			var actions []string
			for _, a := range strings.Split(s[j+1:], ",") {
				if a == "pull" || a == "push" {
					actions = append(actions, a)
				}
			}
			out = append(out, accessEntry{Type: "repository", Name: s[i+1 : j], Actions: actions})
		}
	}
	return out
}

// serveToken is the token endpoint: GET with basic auth (docker's flow) or POST with the
// OAuth2 password or refresh_token grant, as the distribution token specification
// describes.
func (r *Registry) serveToken(w http.ResponseWriter, req *http.Request) {
	var (
		subject string
		scopes  []string
		service string
		offline bool
	)
	switch req.Method {
	case http.MethodGet:
		q := req.URL.Query()
		u, p, ok := req.BasicAuth()
		if !ok || !r.credentialsOK(u, p) {
			tokenError(w, http.StatusUnauthorized, "UNAUTHORIZED", "invalid username or password")
			return
		}
		subject, scopes, service, offline = u, q["scope"], q.Get("service"), q.Get("offline_token") == "true"
	case http.MethodPost:
		if err := req.ParseForm(); err != nil {
			tokenError(w, http.StatusBadRequest, "invalid_request", "the body must be a form")
			return
		}
		f := req.PostForm
		switch f.Get("grant_type") {
		case "password":
			if !r.credentialsOK(f.Get("username"), f.Get("password")) {
				tokenError(w, http.StatusUnauthorized, "invalid_grant", "invalid username or password")
				return
			}
			subject = f.Get("username")
		case "refresh_token":
			c, err := r.tokens.parse(f.Get("refresh_token"))
			if err != nil || !c.Refresh {
				tokenError(w, http.StatusUnauthorized, "invalid_grant", "invalid refresh token")
				return
			}
			subject = c.Subject
		default:
			tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be password or refresh_token")
			return
		}
		scopes, service, offline = f["scope"], f.Get("service"), f.Get("access_type") == "offline"
	default:
		w.Header().Set("Allow", "GET, POST")
		tokenError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "GET or POST")
		return
	}
	if service != "" && service != r.tokens.service {
		tokenError(w, http.StatusBadRequest, "invalid_request", "unknown service")
		return
	}
	now := r.clk.Now()
	jti := make([]byte, 8)
	rand.Read(jti)
	c := claims{Issuer: r.tokens.issuer, Subject: subject, Audience: r.tokens.service, IssuedAt: now.Unix(),
		NotBefore: now.Unix(), Expiry: now.Add(r.tokens.life).Unix(), ID: hex.EncodeToString(jti), Access: parseScopes(scopes)}
	tok := r.tokens.sign(c)
	resp := map[string]any{"token": tok, "access_token": tok, "expires_in": int(r.tokens.life / time.Second),
		"issued_at": now.UTC().Format(time.RFC3339)}
	if offline {
		rc := c
		rc.Refresh, rc.Access, rc.Expiry = true, nil, now.Add(90*24*time.Hour).Unix()
		resp["refresh_token"] = r.tokens.sign(rc)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(resp)
}

func tokenError(w http.ResponseWriter, status int, code, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="regcredtest token"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}, "error": code, "error_description": msg})
}
