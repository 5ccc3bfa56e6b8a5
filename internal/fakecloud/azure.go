package fakecloud

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Azure fakes the two endpoints of ACR's Azure AD flow on one server: the Microsoft
// identity platform v2.0 token endpoint (POST /TENANT/oauth2/v2.0/token, form
// grant_type=client_credentials, client_id, client_secret, scope; JSON answer with
// access_token, or error/error_description/error_codes with AADSTS numbers), and the
// registry's POST /oauth2/exchange (form grant_type=access_token, service, tenant,
// access_token; JSON answer {"refresh_token": JWT}). The exchange accepts only access
// tokens the fake itself issued to the right tenant.
type Azure struct {
	Server       *httptest.Server
	Tenant       string
	ClientID     string
	ClientSecret string
	LoginServer  string
	Scopes       []string // accepted scopes
	// Now is the clock of the refresh tokens' exp claim (default time.Now); RefreshLifetime
	// their life (default 3 h).
	Now             func() time.Time
	RefreshLifetime time.Duration

	mu            sync.Mutex
	aadFault      Fault
	exchangeFault Fault
	issued        map[string]string // access token -> tenant
	n             int
	aadCalls      int
	exchangeCalls int
	release       chan struct{}
}

// NewAzure starts the fake for one service principal and registry; it stops with the test.
func NewAzure(t testing.TB, tenant, clientID, secret, loginServer string) *Azure {
	z := &Azure{Tenant: tenant, ClientID: clientID, ClientSecret: secret, LoginServer: loginServer,
		Scopes: []string{"https://containerregistry.azure.net/.default", "https://management.azure.com/.default"},
		Now:    time.Now, RefreshLifetime: 3 * time.Hour, issued: map[string]string{}, release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", z.token)
	mux.HandleFunc("POST /oauth2/exchange", z.exchange)
	z.Server = httptest.NewServer(mux)
	t.Cleanup(z.Server.Close)
	t.Cleanup(func() { close(z.release) })
	return z
}

// SetAADFault and SetExchangeFault make one endpoint misbehave.
func (z *Azure) SetAADFault(f Fault) { z.mu.Lock(); z.aadFault = f; z.mu.Unlock() }

// SetExchangeFault: see SetAADFault.
func (z *Azure) SetExchangeFault(f Fault) { z.mu.Lock(); z.exchangeFault = f; z.mu.Unlock() }

// Calls returns how many requests each endpoint answered.
func (z *Azure) Calls() (aad, exchange int) {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.aadCalls, z.exchangeCalls
}

// RefreshTokenMarker is in every refresh token the fake issues, so tests can look for leaks.
const RefreshTokenMarker = "ACRREFRESHSECRET"

func (z *Azure) hang(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-z.release:
	}
}

func (z *Azure) token(w http.ResponseWriter, r *http.Request) {
	z.mu.Lock()
	fault := z.aadFault
	z.aadCalls++
	z.mu.Unlock()
	if fault == FaultHang {
		z.hang(w, r)
		return
	}
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		aadErr(w, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	f := r.PostForm
	switch {
	case r.PathValue("tenant") != z.Tenant:
		aadErr(w, 400, "invalid_request", 90002, "Tenant '"+r.PathValue("tenant")+"' not found.")
	case f.Get("grant_type") != "client_credentials":
		aadErr(w, 400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
	case f.Get("client_id") != z.ClientID:
		aadErr(w, 400, "unauthorized_client", 700016, "Application with identifier '"+f.Get("client_id")+"' was not found in the directory.")
	case f.Get("client_secret") != z.ClientSecret:
		aadErr(w, 401, "invalid_client", 7000215, "Invalid client secret provided.")
	case !contains(z.Scopes, f.Get("scope")):
		aadErr(w, 400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid.")
	case fault == Fault500:
		aadErr(w, 500, "server_error", 50000, "There was an error issuing a token.")
	case fault == Fault503:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(503)
		io.WriteString(w, "<html>Service Unavailable</html>")
	case fault == FaultDenied:
		aadErr(w, 403, "access_denied", 53003, "Access has been blocked by Conditional Access policies.")
	case fault == FaultJSON:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"token_type":"Bearer","access_tok`)
	default:
		z.mu.Lock()
		z.n++
		tok := fmt.Sprintf("AADACCESSTOKEN%d", z.n)
		z.issued[tok] = z.Tenant
		z.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
	}
}

func aadErr(w http.ResponseWriter, status int, code string, aadsts int, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"error": code, "error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: 0000", aadsts, desc),
		"error_codes": []int{aadsts}, "timestamp": "2026-03-06 02:14:19Z", "trace_id": "0000", "correlation_id": "0000",
	})
}

func (z *Azure) exchange(w http.ResponseWriter, r *http.Request) {
	z.mu.Lock()
	fault := z.exchangeFault
	z.exchangeCalls++
	z.mu.Unlock()
	if fault == FaultHang {
		z.hang(w, r)
		return
	}
	acrErr := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
	}
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		acrErr(400, "BAD_REQUEST", "form post expected")
		return
	}
	f := r.PostForm
	z.mu.Lock()
	tenant, ok := z.issued[f.Get("access_token")]
	z.mu.Unlock()
	switch {
	case f.Get("grant_type") != "access_token":
		acrErr(400, "UNSUPPORTED_GRANT_TYPE", "grant_type must be access_token here")
	case f.Get("service") != z.LoginServer:
		acrErr(400, "BAD_REQUEST", "service must be the login server")
	case !ok || tenant != f.Get("tenant"):
		acrErr(401, "UNAUTHORIZED", "authentication required")
	case fault == Fault500:
		acrErr(500, "INTERNAL_ERROR", "internal error")
	case fault == Fault503:
		w.WriteHeader(503)
	case fault == FaultDenied:
		acrErr(403, "DENIED", "client with IP is not allowed access")
	case fault == FaultJSON:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"refresh_tok`)
	default:
		z.mu.Lock()
		z.n++
		n := z.n
		z.mu.Unlock()
		exp := z.Now().Add(z.RefreshLifetime)
		if fault == FaultExpire {
			exp = z.Now().Add(-time.Minute)
		}
		tok := fakeJWT(map[string]any{"exp": exp.Unix(), "grant_type": "refresh_token", "iss": "Azure Container Registry",
			"aud": z.LoginServer, "tenant": z.Tenant, "jti": fmt.Sprintf("%s%d", RefreshTokenMarker, n)})
		if fault == FaultToken {
			tok = fmt.Sprintf("%s%d-opaque", RefreshTokenMarker, n) // not a JWT: no exp to read
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"refresh_token": tok})
	}
}

// fakeJWT builds an unsigned-looking JWT (the signature part is opaque to clients).
func fakeJWT(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(c) + "." + enc([]byte(strings.Repeat("s", 32)))
}
