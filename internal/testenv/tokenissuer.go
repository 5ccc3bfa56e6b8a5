package testenv

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Grant gives a token user actions ("pull", "push", "delete", "*") on the repositories whose
// name matches Repo: "*" matches every repository, anything else is a path.Match pattern
// ("team/*", "private").
type Grant struct {
	Repo    string
	Actions []string
}

// TokenUser is one account of the token issuer. A user without grants may pull and push
// every repository.
type TokenUser struct {
	Name, Password string
	Grants         []Grant
}

// tokenIssuer is a minimal implementation of the distribution token server protocol
// (https://distribution.github.io/distribution/spec/auth/token/): GET /token with HTTP basic
// credentials, service and scope parameters, answered with a JWT signed by a key whose
// certificate chains to the CA the registry trusts (rootcertbundle), carried in the x5c
// header so distribution can verify it.
type tokenIssuer struct {
	service, issuer string
	users           map[string]TokenUser
	key             *ecdsa.PrivateKey
	certDER         []byte
	url             string // realm: scheme://localhost:port/token
	requests        atomic.Int64
	srv             *http.Server
}

const tokenTTL = 5 * time.Minute

// startTokenIssuer serves the issuer on a free loopback port. The realm uses the name
// "localhost" rather than an IP literal: clients such as go-containerregistry refuse a realm
// on a private IP address that differs from the registry's host.
func startTokenIssuer(t testing.TB, ca *CA, serving *tls.Certificate, users []TokenUser) *tokenIssuer {
	t.Helper()
	signing := ca.Issue(t, CertSpec{DNSNames: []string{"regcred-token-signer"}})
	ti := &tokenIssuer{
		service: "regcred-test-registry",
		issuer:  "regcred-test-issuer",
		users:   map[string]TokenUser{},
		key:     signing.PrivateKey.(*ecdsa.PrivateKey),
		certDER: signing.Certificate[0],
	}
	for _, u := range users {
		ti.users[u.Name] = u
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: token issuer listen: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	scheme := "http"
	if serving != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*serving}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	ti.url = scheme + "://localhost:" + itoa(port) + "/token"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /token", ti.serveToken)
	ti.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go ti.srv.Serve(ln)
	t.Cleanup(func() { ti.srv.Close() })
	return ti
}

type accessEntry struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

func (ti *tokenIssuer) serveToken(w http.ResponseWriter, r *http.Request) {
	ti.requests.Add(1)
	w.Header().Set("Content-Type", "application/json")
	q := r.URL.Query()
	if svc := q.Get("service"); svc != "" && svc != ti.service {
		writeTokenError(w, http.StatusBadRequest, "service "+svc+" is not served here")
		return
	}
	var account string
	var user *TokenUser
	if name, pass, ok := r.BasicAuth(); ok {
		u, known := ti.users[name]
		if !known || subtle.ConstantTimeCompare([]byte(u.Password), []byte(pass)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="regcred-test-issuer"`)
			writeTokenError(w, http.StatusUnauthorized, "authentication failed")
			return
		}
		account, user = name, &u
	}
	var access []accessEntry
	for _, raw := range q["scope"] {
		for _, scope := range strings.Fields(raw) {
			if e, ok := ti.grant(user, scope); ok {
				access = append(access, e)
			}
		}
	}
	tok, err := ti.sign(account, access)
	if err != nil {
		writeTokenError(w, http.StatusInternalServerError, err.Error())
		return
	}
	now := time.Now().UTC()
	json.NewEncoder(w).Encode(map[string]any{
		"token": tok, "access_token": tok,
		"expires_in": int(tokenTTL / time.Second), "issued_at": now.Format(time.RFC3339),
	})
}

// grant intersects what a scope asks for with what the user may do. Anonymous callers get
// nothing, like a registry with no public repositories.
func (ti *tokenIssuer) grant(u *TokenUser, scope string) (accessEntry, bool) {
	// scope = type:name:actions, and name may contain a port-less host? No: names have no ':'
	// except in the rare "repository(plugin)" type, which this issuer does not serve.
	first := strings.Index(scope, ":")
	last := strings.LastIndex(scope, ":")
	if first < 0 || first == last || u == nil {
		return accessEntry{}, false
	}
	typ, name, actions := scope[:first], scope[first+1:last], strings.Split(scope[last+1:], ",")
	grants := u.Grants
	if len(grants) == 0 {
		grants = []Grant{{Repo: "*", Actions: []string{"*"}}}
	}
	var allowed []string
	for _, g := range grants {
		if typ != "repository" && typ != "registry" {
			continue
		}
		match := g.Repo == "*"
		if !match {
			match, _ = path.Match(g.Repo, name)
		}
		if !match {
			continue
		}
		for _, a := range actions {
			if (slices.Contains(g.Actions, a) || slices.Contains(g.Actions, "*")) && !slices.Contains(allowed, a) {
				allowed = append(allowed, a)
			}
		}
	}
	if len(allowed) == 0 {
		return accessEntry{}, false
	}
	return accessEntry{Type: typ, Name: name, Actions: allowed}, true
}

// sign makes an ES256 JWT the way distribution's token verifier expects it: the signing
// certificate in x5c (chained to rootcertbundle), iss/aud matching the registry's config.
func (ti *tokenIssuer) sign(subject string, access []accessEntry) (string, error) {
	if access == nil {
		access = []accessEntry{}
	}
	now := time.Now()
	header := map[string]any{"typ": "JWT", "alg": "ES256", "x5c": []string{base64.StdEncoding.EncodeToString(ti.certDER)}}
	jti := make([]byte, 16)
	rand.Read(jti)
	claims := map[string]any{
		"iss": ti.issuer, "sub": subject, "aud": ti.service,
		"exp": now.Add(tokenTTL).Unix(), "nbf": now.Add(-time.Minute).Unix(), "iat": now.Unix(),
		"jti": hex.EncodeToString(jti), "access": access,
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString(hb) + "." + enc.EncodeToString(cb)
	sum := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, ti.key, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64) // JWS ES256: r || s, each 32 bytes big-endian
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signed + "." + enc.EncodeToString(sig), nil
}

func writeTokenError(w http.ResponseWriter, status int, msg string) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": "UNAUTHORIZED", "message": msg}}})
}
