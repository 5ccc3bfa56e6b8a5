package conntest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/regcred/regcred/internal/hosts"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	remotetransport "github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/transport"
)

// TestOption configures Test and TestAll.
type Option func(*testConfig)

type testConfig struct {
	provider    registry.Provider
	factory     registry.ProviderFactory
	image       string
	push        string
	timeout     time.Duration
	concurrency int
	cache       *transport.Cache
	wrap        func(http.RoundTripper) http.RoundTripper
	logger      *slog.Logger
	resolver    *net.Resolver
}

// Defaults, in one place.
const (
	defaultTestTimeout     = 30 * time.Second
	defaultTestConcurrency = 8
	certExpiryWarning      = 14 * 24 * time.Hour
)

// WithProvider gives the credentials to test (a token provider, say). Without it the test
// builds one with the factory (WithTestFactory), by default StaticFactory. In TestAll every
// registry would get the same provider: use WithTestFactory there.
func WithProvider(p registry.Provider) Option { return func(c *testConfig) { c.provider = p } }

// WithTestFactory sets how a record becomes its Provider (providers.For knows every kind);
// the default StaticFactory knows the static kinds only.
func WithFactory(f registry.ProviderFactory) Option { return func(c *testConfig) { c.factory = f } }

// WithImage adds the image step: ref ("team/app:v1", or with the registry's host) must exist
// and be pullable with the credentials (HEAD of its manifest with pull scope).
func WithImage(ref string) Option { return func(c *testConfig) { c.image = ref } }

// WithPush adds the push step: the credentials may push to repo. It opens a blob upload
// session and cancels it at once; nothing is written.
func WithPush(repo string) Option { return func(c *testConfig) { c.push = repo } }

// WithTestTimeout bounds one registry's whole test (default 30s); a step that does not
// finish in time fails with ErrTimeout. The ctx given to Test bounds it too.
func WithTimeout(d time.Duration) Option { return func(c *testConfig) { c.timeout = d } }

// WithConcurrency bounds how many registries TestAll tests at once (default 8).
func WithConcurrency(n int) Option { return func(c *testConfig) { c.concurrency = n } }

// WithTransportCache takes transports from c instead of DefaultCache.
func WithTransportCache(c *transport.Cache) Option { return func(cfg *testConfig) { cfg.cache = c } }

// WithTransportWrapper wraps the registry's transport for every HTTP request of the test
// (tracing, metrics, a counting transport in tests). Authentication is added outside it.
func WithTransportWrapper(wrap func(http.RoundTripper) http.RoundTripper) Option {
	return func(c *testConfig) { c.wrap = wrap }
}

// WithTestLogger logs each step at debug level (never a secret). The default logs nothing.
func WithLogger(l *slog.Logger) Option { return func(c *testConfig) { c.logger = l } }

// WithResolver sets the DNS resolver of the DNS step (default net.DefaultResolver).
func WithResolver(r *net.Resolver) Option { return func(c *testConfig) { c.resolver = r } }

func newTestConfig(opts []Option) *testConfig {
	c := &testConfig{timeout: defaultTestTimeout, concurrency: defaultTestConcurrency, factory: registry.StaticFactory,
		cache: transport.DefaultCache, resolver: net.DefaultResolver}
	for _, o := range opts {
		o(c)
	}
	if c.concurrency < 1 {
		c.concurrency = 1
	}
	if c.factory == nil {
		c.factory = registry.StaticFactory
	}
	if c.cache == nil {
		c.cache = transport.DefaultCache
	}
	if c.resolver == nil {
		c.resolver = net.DefaultResolver
	}
	return c
}

// Test checks, in order, everything a pull from r needs, and says what is wrong in the
// user's words: the record's fields, DNS, TCP, the TLS handshake under the record's TLS mode,
// GET /v2/ and its challenge (realm validated), the credentials against that challenge
// (bearer token exchange included), and optionally an image (WithImage) and push access
// (WithPush). A failed step stops the test; later steps are reported as skipped. Test never
// returns nil; Report.Err gives the first failure as an error.
//
// HTTP goes through the registry's one transport (Cache, from transport.ForTLS) and
// go-containerregistry's auth transports, and takes 2 round trips with basic auth, 3 with
// a bearer token exchange, plus one for the image and two for the push check. The image's
// manifest HEAD also reads a pull rate limit (Report.RateLimit) when the registry sends
// one, as Docker Hub does; for Docker Hub without an image, the test reads it with a HEAD
// of ratelimitpreview/test, which Docker Hub does not count as a pull.
func Test(ctx context.Context, r registry.Registry, opts ...Option) *Report {
	return newTestConfig(opts).run(ctx, r)
}

// TestAll tests every registry concurrently, at most WithConcurrency at once, and returns
// the reports in the order of regs. The total time is about that of the slowest registry.
func TestAll(ctx context.Context, regs []registry.Registry, opts ...Option) []*Report {
	cfg := newTestConfig(opts)
	out := make([]*Report, len(regs))
	sem := make(chan struct{}, cfg.concurrency)
	var wg sync.WaitGroup
	for i, r := range regs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = cfg.run(ctx, r)
		}()
	}
	wg.Wait()
	return out
}

// outcome is what a step function returns; a non-nil err means failed.
type outcome struct {
	verdict    registry.Verdict
	detail     string
	cause, fix string // for warnings and skips the user can act on
	err        *Error
	skipErr    error // why a step could not run here (registry.ErrNoProvider)
}

func stepOK(detail string) outcome { return outcome{verdict: registry.VerdictOK, detail: detail} }
func stepSkipped(detail string) outcome {
	return outcome{verdict: registry.VerdictSkipped, detail: detail}
}
func stepFailed(err *Error) outcome { return outcome{verdict: registry.VerdictFailed, err: err} }
func stepWarning(detail, cause, fix string) outcome {
	return outcome{verdict: registry.VerdictWarning, detail: detail, cause: cause, fix: fix}
}

// tester holds one run's state; steps fill it in for the steps after them.
type tester struct {
	cfg     *testConfig
	r       registry.Registry
	d       diagnosis
	server  registry.Server
	host    string // host[:port] as in URLs
	addr    string // host:port to dial
	scheme  string // "https" or "http"
	proxied string // the proxy's host when the environment routes the registry through one
	stop    string // why the remaining steps are skipped without a failure

	rounds    atomic.Int64
	base      http.RoundTripper // the registry's transport, wrapped and counted
	conn      net.Conn
	reg       name.Registry
	challenge *remotetransport.Challenge
	creds     registry.Credentials
	authed    http.RoundTripper
	bearer    string // the bearer token in use, if any
	secrets   []string
	rate      *RateLimit
}

func (c *testConfig) run(ctx context.Context, r registry.Registry) *Report {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	t := &tester{cfg: c, r: r, scheme: "https"}
	t.d.mode = r.TLS.EffectiveMode()
	t.d.timeout = c.timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < c.timeout {
		t.d.timeout = time.Until(dl).Round(time.Millisecond)
	}
	for name, v := range r.Fields {
		if v != "" && r.IsSecretField(name) {
			t.secrets = append(t.secrets, v)
		}
	}
	rep := &Report{Registry: r.Name, ID: r.ID, Server: r.DisplayServer()}
	steps := []struct {
		name registry.StepName
		fn   func(context.Context) outcome
	}{
		{registry.StepFields, t.fields}, {registry.StepDNS, t.dns}, {registry.StepTCP, t.tcp}, {registry.StepTLS, t.tls}, {registry.StepPing, t.ping},
		{registry.StepAuth, t.auth}, {registry.StepImage, t.image}, {registry.StepPush, t.pushCheck},
	}
	var failedStep bool
	for _, s := range steps {
		if failedStep || t.stop != "" {
			why := t.stop
			if failedStep {
				why = "an earlier step failed"
			}
			rep.Steps = append(rep.Steps, Step{Name: s.name, Verdict: registry.VerdictSkipped, Detail: why})
			continue
		}
		began := time.Now()
		o := s.fn(ctx)
		st := Step{Name: s.name, Verdict: o.verdict, Duration: time.Since(began), Detail: o.detail, Cause: o.cause, Fix: o.fix, Err: o.skipErr}
		if o.err != nil {
			st.Verdict, st.Cause, st.Fix, st.Err = registry.VerdictFailed, o.err.Cause, o.err.Fix, o.err
			failedStep = true
		}
		rep.Steps = append(rep.Steps, st)
	}
	if t.conn != nil {
		t.conn.Close()
	}
	rep.Duration = time.Since(start)
	rep.RoundTrips = int(t.rounds.Load())
	rep.RateLimit = t.rate
	if rep.Server == "" {
		rep.Server = t.host
	}
	t.redact(rep)
	sanitizeReport(rep)
	if c.logger != nil {
		for _, s := range rep.Steps {
			c.logger.LogAttrs(ctx, slog.LevelDebug, "registry test step", slog.String("registry", r.Name),
				slog.String("step", string(s.Name)), slog.String("verdict", string(s.Verdict)),
				slog.Duration("duration", s.Duration), slog.String("detail", s.Detail), slog.String("cause", s.Cause))
		}
	}
	return rep
}

// fields: the schema, and the concrete host to test.
func (t *tester) fields(ctx context.Context) outcome {
	if err := t.r.Validate(); err != nil {
		ce := &Error{Kind: registry.ErrInvalid, Step: registry.StepFields, Err: err, Cause: err.Error(), Fix: "correct the field and save again"}
		var fe *registry.FieldError
		if errors.As(err, &fe) {
			ce.Cause = "field " + fe.Field + " " + fe.Reason
			if fe.Hint != "" {
				ce.Fix = fe.Hint
			}
		}
		if s, perr := t.r.ServerInfo(); perr == nil && s.Scheme == "http" && t.d.mode != registry.TLSInsecure {
			ce.Kind = registry.ErrHTTPInSecureMode
			ce.Host = s.Host
			ce.Cause = "the URL is http:// but the TLS mode " + string(t.d.mode) + " only allows https"
			ce.Fix = "use https:// if the registry serves TLS; for a plain-http registry choose the insecure TLS mode"
		}
		return stepFailed(ce)
	}
	s, _ := t.r.ServerInfo()
	t.server = s
	host := s.Host
	if s.Wildcard {
		if t.cfg.image == "" {
			t.stop = "not tested: the server is a wildcard pattern"
			return stepWarning("server "+s.Host+" is a wildcard", "a wildcard server names no host to connect to",
				"enter an image this registry holds, with its full host (for example "+wildcardExample(s.Host)+"), to test a pull from it")
		}
		ref, err := name.ParseReference(t.cfg.image)
		if err != nil || !s.Matches(ref.Context().RegistryStr()) {
			return stepFailed(&Error{Kind: registry.ErrInvalid, Step: registry.StepFields, Err: err,
				Cause: "the image " + strconv.Quote(t.cfg.image) + " is not on a host matching " + s.Host,
				Fix:   "enter an image whose host the wildcard covers, for example " + wildcardExample(s.Host)})
		}
		host = ref.Context().RegistryStr()
	}
	if s.Scheme == "http" {
		t.scheme = "http"
	}
	var nopts []name.Option
	if t.scheme == "http" {
		nopts = append(nopts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, nopts...)
	if err != nil {
		return stepFailed(&Error{Kind: registry.ErrInvalid, Step: registry.StepFields, Err: err, Cause: "the host " + host + " is not a registry host", Fix: "check the URL"})
	}
	t.reg = reg
	t.host = reg.RegistryStr()
	t.d.host = t.host
	t.addr = t.host
	if _, _, err := net.SplitHostPort(t.host); err != nil {
		port := "443"
		if t.scheme == "http" {
			port = "80"
		}
		t.addr = net.JoinHostPort(hosts.Hostname(t.host), port)
	}
	tr, err := t.cfg.cache.For(t.r)
	if err != nil {
		return stepFailed(&Error{Kind: registry.ErrInvalid, Step: registry.StepFields, Err: err, Cause: "the TLS settings are unusable: " + err.Error(), Fix: "correct the CA bundle"})
	}
	if p, err := tr.Proxy(&http.Request{URL: &url.URL{Scheme: t.scheme, Host: t.host}}); err == nil && p != nil {
		t.proxied = p.Host
	}
	var rt http.RoundTripper = tr
	if t.cfg.wrap != nil {
		rt = t.cfg.wrap(rt)
	}
	t.base = scrubber{inner: roundTripCounter{inner: rt, n: &t.rounds}, t: t}
	return stepOK(t.r.Kind.Label() + " registry at " + t.host)
}

func (t *tester) dns(ctx context.Context) outcome {
	if t.proxied != "" {
		return stepSkipped("connections go through the proxy " + t.proxied + " (from the environment)")
	}
	h := hosts.Hostname(t.host)
	if net.ParseIP(h) != nil {
		return stepOK(h + " is an IP address; no lookup needed")
	}
	addrs, err := t.cfg.resolver.LookupHost(ctx, h)
	if err != nil {
		return stepFailed(t.d.network(registry.StepDNS, err))
	}
	if len(addrs) > 4 {
		addrs = append(addrs[:4], "…")
	}
	return stepOK(h + " is " + strings.Join(addrs, ", "))
}

func (t *tester) tcp(ctx context.Context) outcome {
	if t.proxied != "" {
		return stepSkipped("connections go through the proxy " + t.proxied)
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return stepFailed(t.d.network(registry.StepTCP, err))
	}
	t.conn = conn
	return stepOK("connected to " + conn.RemoteAddr().String())
}

func (t *tester) tls(ctx context.Context) outcome {
	if t.proxied != "" {
		return stepSkipped("TLS is checked through the proxy by the next step")
	}
	conn := t.conn
	t.conn = nil
	defer conn.Close()
	if t.scheme == "http" {
		return stepWarning("plain HTTP, no TLS", "images and credentials travel unencrypted (TLS mode insecure, http:// URL)",
			"serve the registry over TLS and switch to the secure or custom CA mode")
	}
	cfg, err := t.r.TLS.Config()
	if err != nil {
		return stepFailed(&Error{Kind: registry.ErrInvalid, Step: registry.StepTLS, Err: err, Cause: err.Error(), Fix: "correct the CA bundle"})
	}
	cfg.ServerName = hosts.Hostname(t.host)
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		ce := t.d.network(registry.StepTLS, err)
		if ce.Kind == registry.ErrHTTPInSecureMode && t.d.mode == registry.TLSInsecure && t.server.Scheme == "" {
			t.scheme = "http"
			t.reg, _ = name.NewRegistry(t.host, name.Insecure)
			return stepWarning("the server speaks plain HTTP; using http://"+t.host,
				"images and credentials travel unencrypted", "serve the registry over TLS, or write the URL as http:// to make this explicit")
		}
		return stepFailed(ce)
	}
	st := tc.ConnectionState()
	leaf := st.PeerCertificates[0]
	detail := fmt.Sprintf("%s, certificate for %s issued by %s, valid until %s", tls.VersionName(st.Version),
		certSubjectNames(leaf), untrusted.Text(leaf.Issuer.CommonName), leaf.NotAfter.UTC().Format("2006-01-02"))
	if t.d.mode == registry.TLSInsecure {
		opts := x509.VerifyOptions{DNSName: cfg.ServerName, Intermediates: x509.NewCertPool()}
		for _, c := range st.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		if t.r.TLS.CABundle != "" {
			if pool, err := t.r.TLS.CertPool(); err == nil {
				opts.Roots = pool
			}
		}
		why := "the certificate would pass verification; switch to the secure mode"
		if _, err := leaf.Verify(opts); err != nil {
			why = "unverified certificate: " + t.d.network(registry.StepTLS, err).Cause
		}
		return stepWarning(detail, "certificate verification is off (TLS mode insecure): "+why,
			"give the registry's CA in the custom CA mode, or fix its certificate, and leave the insecure mode")
	}
	if left := time.Until(leaf.NotAfter); left < certExpiryWarning {
		return stepWarning(detail, "the certificate expires in "+left.Round(time.Hour).String(), "renew the registry's certificate")
	}
	return stepOK(detail)
}

func (t *tester) ping(ctx context.Context) outcome {
	resp, err := t.do(ctx, t.base, http.MethodGet, "/v2/")
	if err != nil {
		return stepFailed(t.d.network(registry.StepPing, err))
	}
	switch resp.StatusCode {
	case http.StatusOK:
		t.challenge = nil
		return stepOK("HTTP 200: the registry asks for no credentials")
	case http.StatusUnauthorized:
	default:
		ce := t.d.status(registry.StepPing, resp, "GET /v2/")
		if resp.StatusCode == http.StatusBadRequest && t.scheme == "http" {
			ce.Cause = "the server refused plain HTTP (400); it probably serves TLS on this port"
			ce.Fix = "write the URL as https://" + t.host + " (or without a scheme) and choose the TLS mode that trusts its certificate"
			return stepFailed(ce)
		}
		if ce.Kind == registry.ErrNotFound || ce.Kind == registry.ErrForbidden {
			ce.Kind = registry.ErrNotRegistry
			ce.Cause = "GET " + t.scheme + "://" + t.host + "/v2/ answered " + reason(resp) + "; a registry answers 200 or 401"
			ce.Fix = "check the URL names the registry's API host (not its web UI) and port"
		}
		return stepFailed(ce)
	}
	scheme, params := transport.PickAuthChallenge(resp.Header.Values("WWW-Authenticate"))
	if scheme == "" {
		return stepFailed(&Error{Kind: registry.ErrNotRegistry, Step: registry.StepPing, Host: t.host, Err: errors.New("401 without WWW-Authenticate"),
			Cause: "the server answered 401 without saying how to authenticate", Fix: "check the URL points at a registry (a proxy in front of it may strip the header)"})
	}
	t.challenge = &remotetransport.Challenge{Scheme: scheme, Parameters: params, Insecure: t.scheme == "http"}
	switch strings.ToLower(scheme) {
	case "basic":
		return stepOK("HTTP 401 with a basic challenge (realm " + strconv.Quote(params["realm"]) + ")")
	case "bearer":
		realm, ce := t.validateRealm(ctx, params["realm"])
		if ce != nil {
			return stepFailed(ce)
		}
		detail := "HTTP 401 with a bearer challenge: token service " + untrusted.Text(params["realm"])
		if s := params["service"]; s != "" {
			detail += " (service " + strconv.Quote(untrusted.Text(s)) + ")"
		}
		if !transport.SameHostPort(realm.Host, realm.Scheme, t.host) {
			h := untrusted.Text(realm.Host)
			return stepWarning(detail, "the credentials go to the token service at "+h+", another host than the registry's",
				"nothing to do if "+h+" is this registry's token service (auth.docker.io is Docker Hub's); otherwise check the registry's auth.token.realm setting")
		}
		return stepOK(detail)
	}
	return stepFailed(&Error{Kind: registry.ErrNotRegistry, Step: registry.StepPing, Host: t.host, Err: fmt.Errorf("challenge scheme %q", untrusted.Text(scheme)),
		Cause: "the registry asks for the " + strconv.Quote(untrusted.Text(scheme)) + " scheme; registries use basic or bearer", Fix: "check the URL points at the registry itself"})
}

// validateRealm applies the realm policy (realm.go), the same rule the registry's
// Transport enforces on every pull, before any credentials go to the token service.
func (t *tester) validateRealm(ctx context.Context, realm string) (*url.URL, *Error) {
	bad := func(why string, err error) *Error {
		if err == nil {
			err = errors.New(why)
		}
		return &Error{Kind: registry.ErrRealm, Step: registry.StepPing, Host: t.host, Err: err,
			Cause: "the registry's token service " + strconv.Quote(untrusted.Text(realm)) + " " + why,
			Fix:   "the registry's auth configuration is wrong (auth.token.realm); ask its operator"}
	}
	if realm == "" {
		return nil, bad("is missing from the bearer challenge", nil)
	}
	u, err := url.Parse(realm)
	if err != nil || u.Host == "" {
		return nil, bad("is not an absolute URL", nil)
	}
	switch err := transport.CheckRealm(ctx, transport.ResolverLookup(t.cfg.resolver), t.host, u, t.d.mode == registry.TLSInsecure, t.proxied != ""); {
	case err == nil:
		return u, nil
	case errors.Is(err, transport.ErrRealmPolicy):
		return nil, bad(strings.TrimPrefix(err.Error(), transport.ErrRealmPolicy.Error()+": "), err)
	default:
		ce := bad("does not resolve", err)
		ce.Fix = "check the registry's auth.token.realm names a host this machine can resolve"
		return nil, ce
	}
}

func (t *tester) auth(ctx context.Context) outcome {
	p := t.cfg.provider
	if p == nil {
		var err error
		if p, err = t.cfg.factory(t.r); err != nil {
			if errors.Is(err, registry.ErrNoProvider) {
				return t.noProvider(err)
			}
			ce := &Error{Kind: connErrKind(err, registry.ErrInvalid), Step: registry.StepAuth, Host: t.host, Err: err,
				Cause: "the credential fields cannot be used", Fix: "correct the credential fields and test again"}
			var fe *registry.FieldError
			if errors.As(err, &fe) {
				ce.Cause = fe.Reason
			}
			return stepFailed(ce)
		}
	}
	creds, err := p.Credentials(ctx)
	if err != nil {
		ce := &Error{Kind: connErrKind(err, registry.ErrUnavailable), Step: registry.StepAuth, Host: t.host, Err: err,
			Cause: "the credential provider failed", Fix: "check the credential fields (keys, service account, role) and that the provider's endpoint is reachable"}
		if ce.Kind == registry.ErrUnauthorized {
			ce.Cause = "the credential provider's endpoint refused the saved credentials"
		}
		return stepFailed(ce)
	}
	t.creds = creds
	for _, s := range []registry.Secret{creds.Password, creds.IdentityToken, creds.RegistryToken} {
		if s != "" {
			t.secrets = append(t.secrets, s.Reveal())
		}
	}
	if creds.Expired(time.Now()) {
		return stepFailed(&Error{Kind: registry.ErrExpired, Step: registry.StepAuth, Host: t.host,
			Cause: "the credentials expired at " + creds.ExpiresAt.UTC().Format(time.RFC3339), Fix: "rotate the token, or use a provider that refreshes it"})
	}
	who := "as " + creds.Username
	if creds.Anonymous() {
		who = "anonymously"
	} else if creds.Username == "" {
		who = "with a token"
	}
	auth := creds.Authenticator()
	if t.challenge == nil {
		t.authed = t.base
		if !creds.Anonymous() {
			t.authed, _ = remotetransport.FromToken(t.reg, auth, t.base, &remotetransport.Challenge{Scheme: "basic"}, nil)
			return stepOK("the registry allows anonymous access to /v2/; the credentials are sent with the image check")
		}
		return stepOK("anonymous access allowed")
	}
	var detail string
	switch strings.ToLower(t.challenge.Scheme) {
	case "basic":
		if creds.Anonymous() && creds.RegistryToken == "" {
			return stepFailed(&Error{Kind: registry.ErrUnauthorized, Step: registry.StepAuth, Host: t.host,
				Cause: "the registry requires a username and password and none are saved", Fix: "add the credentials to the registry record"})
		}
		t.authed, _ = remotetransport.FromToken(t.reg, auth, t.base, t.challenge, nil)
		detail = "signed in " + who + " (basic auth)"
	default: // bearer
		var tok *remotetransport.Token
		if creds.RegistryToken != "" {
			tok = &remotetransport.Token{Token: creds.RegistryToken.Reveal()}
			detail = "registry token accepted"
		} else {
			tok, err = remotetransport.Exchange(ctx, t.reg, auth, t.base, t.scopes(), t.challenge)
			if err != nil {
				return stepFailed(t.d.exchange(err, t.challenge.Parameters["realm"]))
			}
			if tok.Token == "" {
				tok.Token = tok.AccessToken
			}
			detail = "bearer token issued " + who + " by " + t.challenge.Parameters["realm"]
			if tok.ExpiresIn > 0 {
				detail += " (valid " + (time.Duration(tok.ExpiresIn) * time.Second).String() + ")"
			}
		}
		t.secrets = append(t.secrets, tok.Token, tok.AccessToken, tok.RefreshToken)
		t.bearer = tok.Token
		t.authed, err = remotetransport.FromToken(t.reg, auth, t.base, t.challenge, tok)
		if err != nil {
			return stepFailed(t.d.exchange(err, t.challenge.Parameters["realm"]))
		}
	}
	resp, err := t.do(ctx, t.authed, http.MethodGet, "/v2/")
	if err != nil {
		return stepFailed(t.d.network(registry.StepAuth, err))
	}
	if resp.StatusCode != http.StatusOK {
		ce := t.d.status(registry.StepAuth, resp, "GET /v2/ with credentials")
		if resp.StatusCode == http.StatusUnauthorized {
			ce.Cause = "the registry refused the credentials " + who
			if strings.EqualFold(t.challenge.Scheme, "bearer") {
				ce.Cause = "the registry refused the bearer token issued " + who
				ce.Fix = "the token service and the registry disagree (service name, issuer or signing key); ask the registry's operator"
			}
		}
		return stepFailed(ce)
	}
	return stepOK(detail)
}

// scopes are the bearer scopes requested up front, so the image and push checks need no
// further token round trip.
func (t *tester) scopes() []string {
	var s []string
	if t.cfg.image != "" {
		if ref, err := t.parseRef(t.cfg.image); err == nil {
			s = append(s, ref.Context().Scope(remotetransport.PullScope))
		}
	}
	if t.cfg.push != "" {
		if repo, err := name.NewRepository(t.cfg.push, name.WithDefaultRegistry(t.host)); err == nil {
			s = append(s, repo.Scope(remotetransport.PushScope))
		}
	}
	if t.cfg.image == "" && hosts.IsDockerHub(hosts.Hostname(t.host)) {
		s = append(s, "repository:"+hubRateLimitRepo+":pull")
	}
	return s
}

func (t *tester) parseRef(ref string) (name.Reference, error) {
	opts := []name.Option{name.WithDefaultRegistry(t.host)}
	if t.scheme == "http" {
		opts = append(opts, name.Insecure)
	}
	return name.ParseReference(ref, opts...)
}

var manifestAccept = strings.Join([]string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}, ", ")

func (t *tester) image(ctx context.Context) outcome {
	if t.cfg.image == "" {
		if hosts.IsDockerHub(hosts.Hostname(t.host)) && t.authed != nil {
			return t.hubRateLimit(ctx)
		}
		return stepSkipped("no image given")
	}
	ref, err := t.parseRef(t.cfg.image)
	if err != nil {
		return stepFailed(&Error{Kind: registry.ErrInvalid, Step: registry.StepImage, Err: &registry.FieldError{Field: "image", Reason: err.Error()},
			Cause: "the image reference " + strconv.Quote(t.cfg.image) + " is malformed", Fix: "write it as repository[:tag] or repository@sha256:…"})
	}
	if got := ref.Context().RegistryStr(); got != t.host {
		return stepFailed(&Error{Kind: registry.ErrInvalid, Step: registry.StepImage, Err: &registry.FieldError{Field: "image", Reason: "is on another host"},
			Cause: "the image is on " + got + ", not on this registry (" + t.host + "); its credentials are never sent elsewhere",
			Fix:   "give an image of this registry, or test the registry that holds it"})
	}
	repo := ref.Context().RepositoryStr()
	resp, err := t.do(ctx, t.authed, http.MethodHead, "/v2/"+repo+"/manifests/"+ref.Identifier())
	if err != nil {
		return stepFailed(t.d.network(registry.StepImage, err))
	}
	t.rate = parseRateLimit(resp.Header)
	if resp.StatusCode == http.StatusOK {
		d := ref.Name() + " exists"
		if dg := resp.Header.Get("Docker-Content-Digest"); dg != "" {
			d += " (" + untrusted.Text(dg) + ")"
		}
		if t.rate != nil {
			d += "; " + t.rate.String()
			if t.rate.Low() {
				return stepWarning(d, "only "+t.rate.String()+"; pulls past the limit fail with 429 Too Many Requests", rateLimitFix(t.host))
			}
		}
		return stepOK(d)
	}
	ce := t.d.status(registry.StepImage, resp, "the image "+ref.Name())
	ce.Kind, ce.Cause, ce.Fix = t.accessDenied(ce, resp, "pull from "+repo, "read:packages")
	if ce.Kind == registry.ErrNotFound {
		ce.Cause = "the image " + repo + ":" + ref.Identifier() + " does not exist on " + t.host + " (or this account cannot see the repository)"
		ce.Fix = "check the repository name and tag (or digest), and that the image was pushed"
	}
	return stepFailed(ce)
}

// hubRateLimitRepo is the repository Docker Hub documents for reading the rate limit: a
// HEAD of its manifest returns the ratelimit headers and does not count as a pull.
const hubRateLimitRepo = "ratelimitpreview/test"

// hubRateLimit reads Docker Hub's pull allowance for the tested credentials when no image
// was given; it never fails the test (the step stays skipped, with what it learned).
func (t *tester) hubRateLimit(ctx context.Context) outcome {
	resp, err := t.do(ctx, t.authed, http.MethodHead, "/v2/"+hubRateLimitRepo+"/manifests/latest")
	if err != nil {
		return stepSkipped("no image given; the rate limit could not be read")
	}
	if t.rate = parseRateLimit(resp.Header); t.rate == nil {
		return stepSkipped("no image given; Docker Hub sent no rate limit")
	}
	if t.rate.Low() {
		return stepWarning("no image given; Docker Hub: "+t.rate.String(),
			"only "+t.rate.String()+"; pulls past the limit fail with 429 Too Many Requests", rateLimitFix(t.host))
	}
	return stepSkipped("no image given; Docker Hub: " + t.rate.String())
}

func rateLimitFix(host string) string {
	if hosts.IsDockerHub(hosts.Hostname(host)) {
		return "wait for the window to pass, use an account with a higher limit (authenticated pulls count per account, anonymous ones per IP address), or pull through a mirror"
	}
	return "wait for the window to pass, or ask the registry's operator for a higher limit"
}

// accessDenied refines a 401/403 on a repository: with valid credentials (the auth step
// passed), 401 means the token lacks the scope (distribution answers 401 with
// error="insufficient_scope"), so both become ErrForbidden.
func (t *tester) accessDenied(ce *Error, resp *http.Response, action, ghcrScope string) (error, string, string) {
	kind, cause, fix := ce.Kind, ce.Cause, ce.Fix
	code := resp.StatusCode
	if code != http.StatusUnauthorized && code != http.StatusForbidden {
		return kind, cause, fix
	}
	if t.creds.Anonymous() && code == http.StatusUnauthorized {
		return registry.ErrUnauthorized, "the registry does not allow anonymous users to " + action, "save credentials for this registry"
	}
	_, params := transport.PickAuthChallenge(resp.Header.Values("WWW-Authenticate"))
	cause = "the credentials are valid but may not " + action
	if params["error"] == "insufficient_scope" {
		cause += " (the registry answered insufficient_scope)"
	}
	fix = "grant the account access to the repository"
	if hosts.Hostname(t.host) == "ghcr.io" {
		fix = "the GitHub token needs the " + ghcrScope + " scope and access to this package"
	}
	return registry.ErrForbidden, cause, fix
}

func (t *tester) pushCheck(ctx context.Context) outcome {
	if t.cfg.push == "" {
		return stepSkipped("no push repository given")
	}
	repo, err := name.NewRepository(t.cfg.push, name.WithDefaultRegistry(t.host))
	if err != nil || repo.RegistryStr() != t.host {
		return stepFailed(&Error{Kind: registry.ErrInvalid, Step: registry.StepPush, Err: &registry.FieldError{Field: "push", Reason: "is not a repository of " + t.host},
			Cause: "the push repository " + strconv.Quote(t.cfg.push) + " is not a repository name of this registry", Fix: "give a repository path such as team/app"})
	}
	resp, err := t.do(ctx, t.authed, http.MethodPost, "/v2/"+repo.RepositoryStr()+"/blobs/uploads/")
	if err != nil {
		return stepFailed(t.d.network(registry.StepPush, err))
	}
	if resp.StatusCode != http.StatusAccepted {
		ce := t.d.status(registry.StepPush, resp, "a blob upload to "+repo.RepositoryStr())
		ce.Kind, ce.Cause, ce.Fix = t.accessDenied(ce, resp, "push to "+repo.RepositoryStr(), "write:packages")
		if resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotFound {
			ce.Kind = registry.ErrForbidden
			ce.Cause = "the registry does not accept pushes to " + repo.RepositoryStr() + " (" + reason(resp) + "; a read-only registry or pull-through cache?)"
			ce.Fix = "push to the registry's writable endpoint, or create the repository first"
		}
		return stepFailed(ce)
	}
	return stepOK("an upload to " + repo.RepositoryStr() + " was accepted (" + t.cancelUpload(ctx, resp) + ")")
}

// cancelUpload deletes the upload session a push check opened, so nothing is left behind.
// The DELETE goes out once with the credentials already in hand: a bearer token is not
// refreshed for it (distribution wants the "delete" action for that, which a pusher may
// lack), and the registry purges abandoned sessions anyway.
func (t *tester) cancelUpload(ctx context.Context, resp *http.Response) string {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "the registry gave no upload location to cancel"
	}
	u, err := resp.Request.URL.Parse(loc)
	if err != nil || u.Host != t.host {
		return "the upload session was left to expire"
	}
	rt := t.authed
	if t.bearer != "" {
		rt = bearerOnce{inner: t.base, host: t.host, token: t.bearer}
	}
	r2, err := t.doURL(ctx, rt, http.MethodDelete, u.String())
	if err != nil || r2.StatusCode >= 300 {
		return "the upload session was left to expire"
	}
	return "and cancelled"
}

// do sends one request to the registry and drains the body (up to 64 KiB) so the
// connection is reused.
func (t *tester) do(ctx context.Context, rt http.RoundTripper, method, path string) (*http.Response, error) {
	return t.doURL(ctx, rt, method, t.scheme+"://"+t.host+path)
}

func (t *tester) doURL(ctx context.Context, rt http.RoundTripper, method, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	if method == http.MethodHead {
		req.Header.Set("Accept", manifestAccept)
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp, nil
}

// Bounds on a report's texts; each piece a remote server controls is bounded on its own
// (untrusted.DefaultMax) where it enters a text.
const (
	maxStepTextRunes  = 1024
	maxConnErrorRunes = 2048
)

// sanitizeReport bounds and escapes every text of the report, so a hostile server's
// reason phrase, certificate subject or realm reaches no terminal or page raw (the
// pieces are escaped where they enter; this is the net under them).
func sanitizeReport(rep *Report) {
	rep.Registry = untrusted.Text(rep.Registry)
	rep.Server = untrusted.Text(rep.Server)
	for i := range rep.Steps {
		s := &rep.Steps[i]
		s.Detail = untrusted.Limit(s.Detail, maxStepTextRunes)
		s.Cause = untrusted.Limit(s.Cause, maxStepTextRunes)
		s.Fix = untrusted.Limit(s.Fix, maxStepTextRunes)
		if ce, ok := s.Err.(*Error); ok {
			ce.Cause, ce.Fix = s.Cause, s.Fix
			ce.Host = untrusted.Text(ce.Host)
		}
	}
}

// roundTripCounter counts round trips (Report.RoundTrips).
type roundTripCounter struct {
	inner http.RoundTripper
	n     *atomic.Int64
}

func (c roundTripCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.inner.RoundTrip(r)
}

// bearerOnce sends a bearer token to its own host only, and never refreshes it.
type bearerOnce struct {
	inner       http.RoundTripper
	host, token string
}

func (b bearerOnce) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == b.host {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.inner.RoundTrip(r)
}

// connErrKind finds the sentinel an error wraps, else def.
func connErrKind(err error, def error) error {
	for _, k := range []error{registry.ErrUnauthorized, registry.ErrForbidden, registry.ErrExpired, registry.ErrNotFound, registry.ErrInvalid, registry.ErrUnavailable} {
		if errors.Is(err, k) {
			return k
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return registry.ErrTimeout
	}
	return def
}
