package fakecloud

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// GoogleAccessTokenMarker starts every access token the fake issues.
const GoogleAccessTokenMarker = "ya29.GOOGLEACCESSTOKEN"

// Google fakes Google's OAuth 2.0 token endpoint for service accounts (RFC 7523 JWT
// bearer grant): POST /token with grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
// and assertion=JWT. It checks the assertion as Google does: RS256 signature against the
// public key of the key ID in the header, iss = the service account's email, aud = the
// token URL, a scope, and iat/exp (at most one hour apart, not expired). Answers are JSON
// ({"access_token","expires_in","token_type"} or {"error","error_description"}).
type Google struct {
	Server *httptest.Server
	// Lifetime of issued access tokens (default 1 h, as Google's).
	Lifetime time.Duration

	mu      sync.Mutex
	keys    map[string]googleKey // private_key_id -> key
	fault   Fault
	calls   int
	claims  []map[string]any // verified assertion claims, in order
	n       int
	release chan struct{}
}

type googleKey struct {
	email string
	pub   *rsa.PublicKey
}

// NewGoogle starts the fake; it stops with the test.
func NewGoogle(t testing.TB) *Google {
	g := &Google{Lifetime: time.Hour, keys: map[string]googleKey{}, release: make(chan struct{})}
	g.Server = httptest.NewServer(http.HandlerFunc(g.token))
	t.Cleanup(g.Server.Close)
	t.Cleanup(func() { close(g.release) })
	return g
}

// TokenURL is the fake's token endpoint.
func (g *Google) TokenURL() string { return g.Server.URL + "/token" }

// SetFault makes the following answers misbehave.
func (g *Google) SetFault(f Fault) { g.mu.Lock(); g.fault = f; g.mu.Unlock() }

// Calls returns how many token requests the fake answered.
func (g *Google) Calls() int { g.mu.Lock(); defer g.mu.Unlock(); return g.calls }

// Claims returns the claims of every assertion that verified.
func (g *Google) Claims() []map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]map[string]any(nil), g.claims...)
}

// The fake's RSA keys (2048 bits, as Google's), made once per test binary and each only
// when first needed: a key takes a good part of a second to generate, and most tests need
// only the first.
var (
	knownKey   = sync.OnceValue(func() *rsa.PrivateKey { k, _ := rsa.GenerateKey(rand.Reader, 2048); return k })
	unknownKey = sync.OnceValue(func() *rsa.PrivateKey { k, _ := rsa.GenerateKey(rand.Reader, 2048); return k })
)

// NewKey returns a service account key file (JSON, as the Cloud console downloads it) for
// email whose public key the fake knows, with token_uri pointing at the fake.
func (g *Google) NewKey(email string) string {
	k := knownKey()
	g.mu.Lock()
	id := fmt.Sprintf("%040x", len(g.keys)+1)
	g.keys[id] = googleKey{email: email, pub: &k.PublicKey}
	g.mu.Unlock()
	return keyJSON(k, id, email, g.TokenURL())
}

// UnknownKey returns a well-formed key file whose private key the fake does not know (a
// deleted key).
func (g *Google) UnknownKey(email string) string {
	k2 := unknownKey()
	return keyJSON(k2, "deadbeef00000000000000000000000000000000", email, g.TokenURL())
}

// GooglePrivateKeyMarker is in every private key PEM the fake writes (base64 data never
// contains it), so tests can look for leaks of the key.
const GooglePrivateKeyMarker = "-----BEGIN PRIVATE KEY-----"

func keyJSON(k *rsa.PrivateKey, id, email, tokenURI string) string {
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	b, _ := json.MarshalIndent(map[string]string{
		"type": "service_account", "project_id": "my-project", "private_key_id": id, "private_key": pemKey,
		"client_email": email, "client_id": "123456789012345678901", "auth_uri": "https://accounts.google.com/o/oauth2/auth",
		"token_uri": tokenURI,
	}, "", "  ")
	return string(b)
}

func (g *Google) token(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	fault := g.fault
	g.calls++
	g.mu.Unlock()
	if fault == FaultHang {
		select {
		case <-r.Context().Done():
		case <-g.release:
		}
		return
	}
	oauthErr := func(status int, code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/token" {
		oauthErr(404, "not_found", "no such endpoint")
		return
	}
	if r.ParseForm() != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		oauthErr(400, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
		return
	}
	claims, err := g.verify(r.PostForm.Get("assertion"))
	if err != nil {
		oauthErr(400, "invalid_grant", err.Error())
		return
	}
	g.mu.Lock()
	g.claims = append(g.claims, claims)
	g.mu.Unlock()
	switch fault {
	case Fault500:
		oauthErr(500, "internal_failure", "Backend Error")
		return
	case Fault503:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(503)
		io.WriteString(w, "<html>503</html>")
		return
	case FaultDenied:
		oauthErr(403, "access_denied", "Requested scope not authorized")
		return
	case FaultJSON:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"ya29.`)
		return
	}
	g.mu.Lock()
	g.n++
	n := g.n
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("%s%d", GoogleAccessTokenMarker, n),
		"expires_in": int(g.Lifetime.Seconds()), "token_type": "Bearer"})
}

// verify checks a JWT-bearer assertion. Its messages are Google's where Google documents
// them ("Invalid JWT Signature.").
func (g *Google) verify(assertion string) (map[string]any, error) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("Invalid JWT: not three parts")
	}
	dec := base64.RawURLEncoding.DecodeString
	hb, err1 := dec(parts[0])
	cb, err2 := dec(parts[1])
	sig, err3 := dec(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, fmt.Errorf("Invalid JWT: bad base64url")
	}
	var header struct{ Alg, Typ, Kid string }
	var claims map[string]any
	if json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		return nil, fmt.Errorf("Invalid JWT: bad JSON")
	}
	if header.Alg != "RS256" {
		return nil, fmt.Errorf("Invalid JWT: alg must be RS256")
	}
	g.mu.Lock()
	key, ok := g.keys[header.Kid]
	g.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("Invalid JWT Signature.")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(key.pub, crypto.SHA256, sum[:], sig) != nil {
		return nil, fmt.Errorf("Invalid JWT Signature.")
	}
	if claims["iss"] != key.email {
		return nil, fmt.Errorf("Invalid grant: account not found")
	}
	if claims["aud"] != g.TokenURL() {
		return nil, fmt.Errorf("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
	}
	if s, _ := claims["scope"].(string); s == "" {
		return nil, fmt.Errorf("Invalid OAuth scope or ID token audience provided.")
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	now := float64(time.Now().Unix())
	if iat == 0 || exp == 0 || exp-iat > 3600 || exp < now || iat > now+300 {
		return nil, fmt.Errorf("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
	}
	return claims, nil
}
