package acr

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/regcred/regcred/registry"
)

// TokenUsername is the username that goes with an ACR refresh token (docker login
// -u 00000000-0000-0000-0000-000000000000 -p REFRESH_TOKEN).
const TokenUsername = "00000000-0000-0000-0000-000000000000"

// Defaults.
const (
	// DefaultScope asks Azure AD for an ACR-audience token, which every registry accepts
	// (ARM-audience tokens, scope https://management.azure.com/.default, can be disabled
	// per registry by the "authentication-as-arm" policy).
	DefaultScope = "https://containerregistry.azure.net/.default"
	// DefaultLifetime is assumed for a refresh token whose JWT carries no exp claim. ACR
	// refresh tokens live about 3 hours.
	DefaultLifetime = 3 * time.Hour
)

// Option configures New.
type Option func(*options)

type options struct {
	tenant    string
	authority string
	exchange  string
	scope     string
	client    *http.Client
	lifetime  time.Duration
	name      string
}

// WithTenant switches from basic auth to the Azure AD flow in this tenant (GUID or domain):
// a client-credentials token for the service principal, exchanged for an ACR refresh token.
func WithTenant(tenant string) Option { return func(o *options) { o.tenant = tenant } }

// WithAuthorityHost overrides the Azure AD host (default: login.microsoftonline.com, or the
// sovereign cloud's for .azurecr.cn and .azurecr.us), e.g. for a test server.
func WithAuthorityHost(baseURL string) Option {
	return func(o *options) { o.authority = strings.TrimRight(baseURL, "/") }
}

// WithExchangeURL overrides the registry base URL the AAD token is exchanged at (default
// https://LOGINSERVER), e.g. for a test server.
func WithExchangeURL(baseURL string) Option {
	return func(o *options) { o.exchange = strings.TrimRight(baseURL, "/") }
}

// WithScope sets the Azure AD scope (default DefaultScope).
func WithScope(scope string) Option { return func(o *options) { o.scope = scope } }

// WithHTTPClient sets the HTTP client of both calls (default: a client with a 30 s timeout).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithDefaultLifetime sets the lifetime assumed when the refresh token has no exp claim.
func WithDefaultLifetime(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.lifetime = d
		}
	}
}

// WithName sets the registry name used in error texts (never a secret).
func WithName(name string) Option { return func(o *options) { o.name = name } }

// Provider resolves credentials for one Azure Container Registry. It does not cache; wrap
// it with providers/cache when it uses a tenant. Safe for concurrent use.
type Provider struct {
	loginServer string
	clientID    string
	secret      registry.Secret
	o           options
}

var _ registry.Provider = (*Provider)(nil)

var (
	loginServerRE = regexp.MustCompile(`^[a-z0-9]{5,50}(-[a-z0-9]{10,20})?\.azurecr\.(io|cn|us)$`)
	tenantRE      = regexp.MustCompile(`^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[a-z0-9][a-z0-9.-]*\.[a-z]{2,})$`)
)

// New returns the provider for loginServer (NAME.azurecr.io) with a service principal's
// client ID and secret, an ACR token's name and password, or the admin user. Without
// WithTenant the credentials are used as basic auth as they are; with it, the Azure AD flow
// runs on each call. Bad inputs are *registry.FieldError naming the field.
func New(loginServer, clientID string, secret registry.Secret, opts ...Option) (*Provider, error) {
	o := options{scope: DefaultScope, lifetime: DefaultLifetime}
	for _, opt := range opts {
		opt(&o)
	}
	ls := strings.ToLower(strings.TrimSpace(loginServer))
	if !loginServerRE.MatchString(ls) {
		return nil, &registry.FieldError{Field: "loginServer", Reason: "is not an Azure Container Registry login server",
			Hint: "NAME.azurecr.io, without https:// or a path"}
	}
	if clientID == "" {
		return nil, &registry.FieldError{Field: "username", Reason: "is empty", Hint: "the service principal's application (client) ID, an ACR token name or the admin user"}
	}
	if secret == "" {
		return nil, &registry.FieldError{Field: "password", Reason: "is empty", Hint: "the client secret or password"}
	}
	if o.tenant != "" && !tenantRE.MatchString(o.tenant) {
		return nil, &registry.FieldError{Field: "tenant", Reason: "is not a tenant ID or domain", Hint: "a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47"}
	}
	if o.authority == "" {
		o.authority = "https://" + authorityFor(ls)
	}
	if o.exchange == "" {
		o.exchange = "https://" + ls
	}
	if o.client == nil {
		o.client = &http.Client{Timeout: 30 * time.Second}
	}
	if o.name == "" {
		o.name = ls
	}
	return &Provider{loginServer: ls, clientID: clientID, secret: secret, o: o}, nil
}

// authorityFor picks the Azure AD host of the login server's cloud.
func authorityFor(loginServer string) string {
	switch {
	case strings.HasSuffix(loginServer, ".azurecr.cn"):
		return "login.chinacloudapi.cn"
	case strings.HasSuffix(loginServer, ".azurecr.us"):
		return "login.microsoftonline.us"
	}
	return "login.microsoftonline.com"
}

// LoginServer is the registry host.
func (p *Provider) LoginServer() string { return p.loginServer }

// Expiring reports whether the credentials expire (the Azure AD flow) and need a cache.
func (p *Provider) Expiring() bool { return p.o.tenant != "" }

// String describes the provider without secrets.
func (p *Provider) String() string {
	if p.o.tenant == "" {
		return "acr " + p.loginServer + " (basic auth as " + p.clientID + ")"
	}
	return "acr " + p.loginServer + " (Azure AD: client " + p.clientID + " in tenant " + p.o.tenant + ")"
}

// GoString redacts for %#v.
func (p *Provider) GoString() string { return "acr.Provider(" + p.String() + ")" }

// Credentials returns basic auth without a tenant; with one, it fetches an Azure AD token
// and exchanges it for an ACR refresh token, returned as IdentityToken with username
// TokenUsername and the refresh token's expiry.
func (p *Provider) Credentials(ctx context.Context) (registry.Credentials, error) {
	if p.o.tenant == "" {
		return registry.Credentials{Username: p.clientID, Password: p.secret}, nil
	}
	aad, err := p.aadToken(ctx)
	if err != nil {
		return registry.Credentials{}, p.fail(err)
	}
	refresh, err := p.exchange(ctx, aad)
	if err != nil {
		return registry.Credentials{}, p.fail(err)
	}
	exp, ok := jwtExpiry(refresh)
	if !ok {
		exp = time.Now().Add(p.o.lifetime)
	}
	return registry.Credentials{Username: TokenUsername, IdentityToken: registry.Secret(refresh), ExpiresAt: exp}, nil
}

func (p *Provider) fail(err error) error {
	return &registry.Error{Op: "refresh", Registry: p.o.name, Err: err}
}

// aadToken runs the OAuth 2.0 client credentials grant at the tenant's v2.0 endpoint.
func (p *Provider) aadToken(ctx context.Context) (string, error) {
	const step = "azure ad token"
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {p.clientID},
		"client_secret": {p.secret.Reveal()},
		"scope":         {p.o.scope},
	}
	u := p.o.authority + "/" + url.PathEscape(p.o.tenant) + "/oauth2/v2.0/token"
	body, status, err := p.post(ctx, u, form)
	if err != nil {
		return "", p.transportError(step, err)
	}
	var out struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Error       string `json:"error"`
		ErrorCodes  []int  `json:"error_codes"`
	}
	jsonErr := json.Unmarshal(body, &out)
	if status != http.StatusOK {
		return "", aadError(status, out.Error, out.ErrorCodes)
	}
	if jsonErr != nil || out.AccessToken == "" {
		return "", fmt.Errorf("%s: the answer is not a token response (malformed JSON or no access_token): %w", step, registry.ErrUnavailable)
	}
	return out.AccessToken, nil
}

// aadError maps an Azure AD error answer. It names the error code and AADSTS number, which
// identify the problem, and never echoes the request.
func aadError(status int, code string, codes []int) error {
	const step = "azure ad token"
	what := "HTTP " + strconv.Itoa(status)
	if code != "" {
		what = code + ", " + what
	}
	if len(codes) > 0 {
		what += ", AADSTS" + strconv.Itoa(codes[0])
	}
	has := func(c int) bool {
		for _, x := range codes {
			if x == c {
				return true
			}
		}
		return false
	}
	switch {
	case has(90002) || has(900023):
		return fmt.Errorf("%s: the tenant does not exist (%s): %w", step, what, &registry.FieldError{Field: "tenant", Reason: "is not a known Azure AD tenant", Hint: "use the directory (tenant) ID of the service principal"})
	case has(700016):
		return fmt.Errorf("%s: no application with this client ID in the tenant (%s): %w; check username (the application ID) and tenant", step, what, registry.ErrUnauthorized)
	case code == "invalid_client" || code == "unauthorized_client" || code == "invalid_grant" || status == http.StatusUnauthorized:
		return fmt.Errorf("%s: Azure AD rejected the service principal (%s): %w; check username (client ID) and password (client secret, it may have expired)", step, what, registry.ErrUnauthorized)
	case status == http.StatusForbidden:
		return fmt.Errorf("%s: Azure AD refused the request (%s): %w", step, what, registry.ErrForbidden)
	case code == "invalid_scope" || code == "invalid_request":
		return fmt.Errorf("%s: Azure AD refused the request (%s): %w", step, what, registry.ErrInvalid)
	case status >= 500 || status == http.StatusTooManyRequests || code == "temporarily_unavailable":
		return fmt.Errorf("%s: Azure AD is unavailable (%s): %w; it will be retried", step, what, registry.ErrUnavailable)
	}
	return fmt.Errorf("%s failed (%s): %w", step, what, registry.ErrUnavailable)
}

// exchange posts the AAD token to the registry's /oauth2/exchange and returns the ACR
// refresh token.
func (p *Provider) exchange(ctx context.Context, aadToken string) (string, error) {
	const step = "acr token exchange"
	form := url.Values{
		"grant_type":   {"access_token"},
		"service":      {p.loginServer},
		"tenant":       {p.o.tenant},
		"access_token": {aadToken},
	}
	body, status, err := p.post(ctx, p.o.exchange+"/oauth2/exchange", form)
	if err != nil {
		return "", p.transportError(step, err)
	}
	switch {
	case status == http.StatusUnauthorized:
		return "", fmt.Errorf("%s: the registry rejected the Azure AD token (HTTP 401): %w; grant the service principal a pull role (AcrPull) on %s", step, registry.ErrUnauthorized, p.loginServer)
	case status == http.StatusForbidden:
		return "", fmt.Errorf("%s: the registry refused the exchange (HTTP 403): %w; check the registry's network rules and the principal's role", step, registry.ErrForbidden)
	case status == http.StatusNotFound:
		return "", fmt.Errorf("%s: %s has no /oauth2/exchange (HTTP 404): %w; is loginServer an Azure Container Registry?", step, p.loginServer, registry.ErrNotFound)
	case status >= 500 || status == http.StatusTooManyRequests:
		return "", fmt.Errorf("%s: the registry is unavailable (HTTP %d): %w; it will be retried", step, status, registry.ErrUnavailable)
	case status != http.StatusOK:
		return "", fmt.Errorf("%s failed (HTTP %d): %w", step, status, registry.ErrUnavailable)
	}
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.RefreshToken == "" {
		return "", fmt.Errorf("%s: the answer has no refresh_token (malformed JSON): %w", step, registry.ErrUnavailable)
	}
	return out.RefreshToken, nil
}

func (p *Provider) post(ctx context.Context, u string, form url.Values) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := p.o.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, 0, err
	}
	return body, resp.StatusCode, nil
}

// transportError describes a failure to get an answer. The URL in a *url.Error carries no
// secret (the secrets travel in the body), but only its host is kept.
func (p *Provider) transportError(step string, err error) error {
	var dnsErr *net.DNSError
	var ue *url.Error
	host := ""
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			host = u.Host
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %s did not answer in time: %w: %w", step, host, registry.ErrUnavailable, context.DeadlineExceeded)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: cancelled: %w: %w", step, registry.ErrUnavailable, context.Canceled)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("%s: cannot resolve %s: %w; check loginServer and the network", step, dnsErr.Name, registry.ErrUnavailable)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%s: %s did not answer in time: %w", step, host, registry.ErrUnavailable)
	}
	return fmt.Errorf("%s: cannot reach %s: %w", step, host, registry.ErrUnavailable)
}

// jwtExpiry reads the exp claim of a JWT without verifying it (the registry verifies it;
// regcred only needs to know when to refresh).
func jwtExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Exp == "" {
		return time.Time{}, false
	}
	f, err := claims.Exp.Float64()
	if err != nil || f <= 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0).UTC(), true
}
