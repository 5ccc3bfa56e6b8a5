package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"golang.org/x/oauth2"
	googleoauth "golang.org/x/oauth2/google"

	"github.com/regcred/regcred/registry"
)

// The usernames Google's registries take.
const (
	JSONKeyUsername     = "_json_key"         // password: the whole key file
	AccessTokenUsername = "oauth2accesstoken" // password: an OAuth access token
	CloudPlatformScope  = "https://www.googleapis.com/auth/cloud-platform"
	DefaultLifetime     = time.Hour // assumed when the token answer has no expires_in
)

// Mode is how the service account key becomes registry credentials.
type Mode int

const (
	// AccessToken exchanges the key for a one-hour OAuth access token (username
	// oauth2accesstoken). The key never leaves the process. The default.
	AccessToken Mode = iota
	// JSONKey sends the key file itself as the password of username _json_key. It never
	// expires (until the key is deleted) and needs no token endpoint, but every node that
	// pulls holds the private key.
	JSONKey
)

func (m Mode) String() string {
	if m == JSONKey {
		return "json key"
	}
	return "access token"
}

// Option configures New.
type Option func(*options)

type options struct {
	mode     Mode
	tokenURL string
	client   *http.Client
	scopes   []string
	name     string
}

// WithMode chooses AccessToken (default) or JSONKey.
func WithMode(m Mode) Option { return func(o *options) { o.mode = m } }

// WithTokenURL overrides the token endpoint (default: the key's token_uri, normally
// https://oauth2.googleapis.com/token), e.g. for a test server.
func WithTokenURL(u string) Option { return func(o *options) { o.tokenURL = u } }

// WithHTTPClient sets the HTTP client of the token call.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithScopes replaces the OAuth scopes (default CloudPlatformScope).
func WithScopes(scopes ...string) Option { return func(o *options) { o.scopes = scopes } }

// WithName sets the registry name used in error texts (never a secret).
func WithName(name string) Option { return func(o *options) { o.name = name } }

// Provider turns a Google service account key into registry credentials for GCR and
// Artifact Registry. It does not cache; wrap it with providers/cache in AccessToken mode.
// Safe for concurrent use.
type Provider struct {
	key   registry.Secret
	email string
	o     options
}

var _ registry.Provider = (*Provider)(nil)

// New checks the key (a *registry.FieldError for "serviceAccountKey" when it is not JSON,
// not a service account key, or its PEM private key does not parse) and returns the
// provider. No network call is made.
func New(serviceAccountKey string, opts ...Option) (*Provider, error) {
	o := options{scopes: []string{CloudPlatformScope}}
	for _, opt := range opts {
		opt(&o)
	}
	k, err := registry.ParseServiceAccountKey(serviceAccountKey)
	if err != nil {
		return nil, err
	}
	if k.Type == "" {
		return nil, &registry.FieldError{Field: "serviceAccountKey", Reason: "has no type", Hint: `a service account key file has "type": "service_account"`}
	}
	if o.client == nil {
		o.client = &http.Client{Timeout: 30 * time.Second}
	}
	if o.name == "" {
		o.name = k.ClientEmail
	}
	return &Provider{key: registry.Secret(serviceAccountKey), email: k.ClientEmail, o: o}, nil
}

// Email is the service account's client_email.
func (p *Provider) Email() string { return p.email }

// Mode is how credentials are made.
func (p *Provider) Mode() Mode { return p.o.mode }

// Expiring reports whether the credentials expire (AccessToken mode) and need a cache.
func (p *Provider) Expiring() bool { return p.o.mode == AccessToken }

// String describes the provider without secrets.
func (p *Provider) String() string { return "google " + p.email + " (" + p.o.mode.String() + ")" }

// GoString redacts for %#v.
func (p *Provider) GoString() string { return "google.Provider(" + p.String() + ")" }

// Credentials returns _json_key basic auth in JSONKey mode; in AccessToken mode it signs a
// JWT with the key, trades it at the token endpoint (the JWT-bearer grant) and returns
// username oauth2accesstoken with the access token and its expiry.
func (p *Provider) Credentials(ctx context.Context) (registry.Credentials, error) {
	if p.o.mode == JSONKey {
		return registry.Credentials{Username: JSONKeyUsername, Password: p.key}, nil
	}
	conf, err := googleoauth.JWTConfigFromJSON([]byte(p.key.Reveal()), p.o.scopes...)
	if err != nil { // New checked the key; this is defensive
		return registry.Credentials{}, p.fail(&registry.FieldError{Field: "serviceAccountKey", Reason: "is not a usable service account key"})
	}
	if p.o.tokenURL != "" {
		conf.TokenURL = p.o.tokenURL
	}
	// x/oauth2's JWT source sends its request without ctx; this client puts ctx back on it
	// (so deadlines and cancellation work) and remembers transport failures, which x/oauth2
	// flattens to text.
	var transportErr error
	base := p.o.client
	hc := &http.Client{Timeout: base.Timeout, CheckRedirect: base.CheckRedirect, Jar: base.Jar,
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			rt := base.Transport
			if rt == nil {
				rt = http.DefaultTransport
			}
			resp, err := rt.RoundTrip(r.WithContext(ctx))
			if err != nil {
				transportErr = err
			}
			return resp, err
		})}
	tok, err := conf.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, hc)).Token()
	if err != nil {
		return registry.Credentials{}, p.fail(p.classify(ctx, err, transportErr))
	}
	if tok.AccessToken == "" {
		return registry.Credentials{}, p.fail(fmt.Errorf("token endpoint: the answer has no access_token: %w", registry.ErrUnavailable))
	}
	exp := tok.Expiry
	if exp.IsZero() {
		exp = time.Now().Add(DefaultLifetime)
	}
	return registry.Credentials{Username: AccessTokenUsername, Password: registry.Secret(tok.AccessToken), ExpiresAt: exp}, nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (p *Provider) fail(err error) error {
	return &registry.Error{Op: "refresh", Registry: p.o.name, Err: err}
}

// classify maps a token failure. It quotes the OAuth error code and Google's short
// description (which names the problem, e.g. "Invalid JWT Signature."), never the request
// or the key.
func (p *Provider) classify(ctx context.Context, err, transportErr error) error {
	const step = "google token"
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		var body struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		json.Unmarshal(re.Body, &body)
		what := "HTTP " + strconv.Itoa(status)
		if body.Error != "" {
			what = body.Error + ", " + what
			if d := safeDescription(body.Description); d != "" {
				what += ": " + d
			}
		}
		switch {
		case body.Error == "invalid_grant" || body.Error == "invalid_client" || body.Error == "unauthorized_client" || status == http.StatusUnauthorized:
			return fmt.Errorf("%s: Google rejected the service account key (%s): %w; the key may have been deleted or disabled: create a new key for %s",
				step, what, registry.ErrUnauthorized, p.email)
		case status == http.StatusForbidden:
			return fmt.Errorf("%s: Google refused the token (%s): %w", step, what, registry.ErrForbidden)
		case body.Error == "invalid_scope":
			return fmt.Errorf("%s: Google refused the scope (%s): %w", step, what, registry.ErrInvalid)
		case status >= 500 || status == http.StatusTooManyRequests:
			return fmt.Errorf("%s: Google is unavailable (%s): %w; it will be retried", step, what, registry.ErrUnavailable)
		}
		return fmt.Errorf("%s failed (%s): %w", step, what, registry.ErrUnavailable)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: the token endpoint did not answer in time: %w: %w", step, registry.ErrUnavailable, ctx.Err())
	}
	if transportErr != nil {
		var dnsErr *net.DNSError
		if errors.As(transportErr, &dnsErr) {
			return fmt.Errorf("%s: cannot resolve %s: %w", step, dnsErr.Name, registry.ErrUnavailable)
		}
		var ne net.Error
		if errors.As(transportErr, &ne) && ne.Timeout() {
			return fmt.Errorf("%s: the token endpoint did not answer in time: %w", step, registry.ErrUnavailable)
		}
		return fmt.Errorf("%s: cannot reach the token endpoint: %w", step, registry.ErrUnavailable)
	}
	return fmt.Errorf("%s: the answer is not a token response (malformed JSON): %w", step, registry.ErrUnavailable)
}

var safeDescRE = regexp.MustCompile(`^[A-Za-z0-9 .,:'()_-]{1,160}$`)

// safeDescription keeps short plain-text descriptions and drops anything else.
func safeDescription(d string) string {
	if safeDescRE.MatchString(d) {
		return d
	}
	return ""
}

// gar location names: a region (europe-west1) or a multi-region (us, europe, asia).
var garRegionRE = regexp.MustCompile(`^([a-z]+-[a-z]+[1-9][0-9]?|us|europe|asia)$`)

// ArtifactRegistryHost returns the Docker host of an Artifact Registry location:
// REGION-docker.pkg.dev. A bad location is a *registry.FieldError for "region".
func ArtifactRegistryHost(region string) (string, error) {
	if !garRegionRE.MatchString(region) {
		return "", &registry.FieldError{Field: "region", Reason: "is not an Artifact Registry location",
			Hint: "a region such as us-central1 or europe-west1, or a multi-region: us, europe, asia"}
	}
	return region + "-docker.pkg.dev", nil
}

// ContainerRegistryHosts are GCR's hosts.
var ContainerRegistryHosts = []string{"gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io"}
