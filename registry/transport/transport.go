package transport

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"github.com/regcred/regcred/internal/hosts"
	"github.com/regcred/regcred/internal/redact"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registry"
)

// Transport is the HTTP transport of one saved registry: the record's TLS mode
// (transport.ForTLS) plus the rules that keep its credentials where they belong and bound
// what the server controls. Cache.For and Keychain.Transport hand it out; pass
// it to remote.WithTransport next to remote.WithAuthFromKeychain. Safe for concurrent use.
//
// On every request it
//   - refuses plain http unless the record's TLS mode is insecure (an error wrapping
//     ErrHTTPInSecureMode), so go-containerregistry's fallback to http for loopback,
//     *.local and private hosts never carries a secure record's credentials;
//   - lets an Authorization header reach the registry's own host (and port), and the
//     bearer token realms the registry itself named in a challenge, under the realm policy
//     of realm.go (errors wrap ErrRealm); any other host (a blob or manifest redirected to
//     object storage) gets the request without the registry's Authorization: a Basic
//     header, or a bearer value that was sent to the registry, is removed;
//   - bounds what the server sends: response headers (MaxResponseHeaderBytes), each
//     WWW-Authenticate challenge, and the bodies that are read whole (GET /v2/,
//     manifests, tag lists, token responses, error bodies) in size and in time, even when
//     the caller's context has no deadline; blobs stream unbounded;
//   - escapes the reason phrase and the text of transport errors (certificate names,
//     addresses), so they are safe to show.
type Transport struct {
	base   *http.Transport
	host   string // the registry's host[:port] as in URLs; a pattern for wildcard records
	scheme string // "https", or "http" for a record written http://
	wild   bool
	mode   registry.TLSMode
	http   bool // plain http allowed: the insecure mode, or an anonymous pull (no record)
	lookup lookupFunc

	// Derived from host once, for isRegistry on every request.
	ownHTTPS, ownHTTP string        // canonicalAddr(host, "https"), canonicalAddr(host, "http")
	hub               bool          // host is one of Docker Hub's API names
	wildName          hosts.Pattern // a wildcard host's name pattern, without its port
	wildPort          string        // the wildcard's port (the scheme's default when none)

	mu     sync.Mutex
	realms map[string]bool   // canonical host:port of realms the registry named
	sent   map[[16]byte]bool // hashes of Authorization values sent to the registry
}

var _ http.RoundTripper = (*Transport)(nil)

// Proxy returns the proxy URL the transport uses for req (from the environment), or nil
// for a direct connection.
func (t *Transport) Proxy(req *http.Request) (*url.URL, error) {
	if t.base.Proxy == nil {
		return nil, nil
	}
	return t.base.Proxy(req)
}

// Bounds on what a registry (or its token service) sends.
const (
	maxResponseHeaderBytes = 256 << 10 // all response headers together
	maxChallengeBytes      = 8 << 10   // the WWW-Authenticate values of one response
	maxPingBody            = 64 << 10  // GET /v2/
	maxManifestBody        = 16 << 20  // manifests, indexes, tag lists, catalog, referrers: 4x distribution's own 4 MiB limit
	maxTokenBody           = 1 << 20   // token service answers
	maxErrorBody           = 1 << 20   // any answer of 400 and up
	maxRealms              = 8
	maxSentAuth            = 64
	MaxReasonRunes         = 64
	maxErrorRunes          = 1024
)

func newTransport(base *http.Transport, r registry.Registry, host string) *Transport {
	s, _ := r.ServerInfo()
	scheme := s.Scheme
	if scheme == "" {
		scheme = "https"
	}
	if host == "" {
		host = s.Host
	}
	mode := r.TLS.EffectiveMode()
	return (&Transport{base: base, host: host, scheme: scheme, wild: strings.Contains(host, "*"),
		mode: mode, http: mode == registry.TLSInsecure, lookup: ResolverLookup(nil)}).derive()
}

// derive fills the fields computed from host and scheme.
func (t *Transport) derive() *Transport {
	t.ownHTTPS, t.ownHTTP = canonicalAddr(t.host, "https"), canonicalAddr(t.host, "http")
	t.hub = hosts.IsDockerHub(t.host)
	if t.wild {
		var name string
		name, t.wildPort = hosts.SplitPort(t.host)
		t.wildName = hosts.NewPattern(name)
		if t.wildPort == "" {
			t.wildPort = defaultPort(t.scheme)
		}
	}
	return t
}

// anonymousBase is the connection pool of pulls no saved registry matches: system roots,
// plain http allowed (go-containerregistry's fallback for local registries; there are no
// credentials to protect), the same bounds as every registry's.
var anonymousBase = sync.OnceValue(func() *http.Transport {
	cfg, _ := registry.TLS{}.Config()
	return newHTTPTransport(cfg)
})

// anonymousTransport is the Transport of an image no saved registry matches: nothing to
// keep on its host, but what the server sends is bounded all the same.
func AnonymousTransport(host string) *Transport {
	return (&Transport{base: anonymousBase(), host: host, scheme: "https", wild: false, mode: registry.TLSSecure, http: true,
		lookup: ResolverLookup(nil)}).derive()
}

// Mode is the TLS mode the transport enforces.
func (t *Transport) Mode() registry.TLSMode { return t.mode }

// dialFunc is http.Transport.DialContext.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// guardDial wraps the registry's dialer so that a connection to a token realm on another
// host goes only to an address the realm policy allows, checked on the addresses it
// really dials: a DNS answer that changes between RoundTrip's check and the dial (DNS
// rebinding) cannot take the credentials to loopback or a metadata service. Connections
// to the registry itself, to a proxy and to redirect targets dial as they are.
func (t *Transport) guardDial(next dialFunc) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || !t.isRealmAddr(addr) {
			return next(ctx, network, addr)
		}
		var addrs []netip.Addr
		if a, err := netip.ParseAddr(host); err == nil {
			addrs = []netip.Addr{a}
		} else if addrs, err = t.lookup(ctx, host); err != nil {
			return nil, err
		}
		regClass, err := hostClass(ctx, t.lookup, hosts.Hostname(t.host))
		if err != nil {
			regClass = classPublic
		}
		var firstErr error
		for _, a := range addrs {
			if c := classifyAddr(a); c == classMetadata || c != classPublic && c != regClass {
				return nil, &registry.Error{Op: "token", Registry: t.host, Err: fmt.Errorf("%w: the token service %s resolves to %s (%s) at the moment of connecting, and the registry is on %s",
					registry.ErrRealm, untrusted.Text(host), a, c, regClass)}
			}
		}
		for _, a := range addrs {
			conn, err := next(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
			if err == nil {
				return conn, nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("%s has no address", untrusted.Text(host))
		}
		return nil, firstErr
	}
}

func (t *Transport) isRealmAddr(hostport string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.realms[canonicalAddr(hostport, "https")]
}

// CloseIdleConnections closes the idle connections of the registry's connection pool.
func (t *Transport) CloseIdleConnections() { t.base.CloseIdleConnections() }

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !t.http {
		closeBody(req)
		return nil, refuseHTTP(req.URL.Host, t.mode)
	}
	own := t.isRegistry(req.URL)
	auth := req.Header.Get("Authorization")
	realm := !own && t.isRealm(req.URL)
	switch {
	case own:
		if auth != "" {
			t.remember(auth)
		}
	case realm:
		if err := t.checkRealm(req); err != nil {
			closeBody(req)
			return nil, err
		}
	case auth != "" && t.registryAuth(auth):
		req = req.Clone(req.Context())
		req.Header.Del("Authorization")
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel(nil)
		return nil, safeError(err)
	}
	resp.Status = untrusted.Limit(scrubReason(resp, auth), MaxReasonRunes)
	if own && resp.StatusCode == http.StatusUnauthorized {
		if err := t.learnChallenge(resp); err != nil {
			resp.Body.Close()
			cancel(nil)
			return nil, err
		}
	}
	limit := t.bodyLimit(req, resp, own, realm)
	if limit == 0 {
		resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
		return resp, nil
	}
	b := &boundedBody{ReadCloser: resp.Body, cancel: cancel, left: limit, limit: limit, ctx: ctx,
		what: req.Method + " " + untrusted.Text(req.URL.Host+req.URL.Path)}
	b.timer = time.AfterFunc(readWholeTimeout, func() { cancel(errReadTimeout) })
	resp.Body = b
	return resp, nil
}

// bodyLimit is the size bound of a response read whole, 0 for a stream.
func (t *Transport) bodyLimit(req *http.Request, resp *http.Response, own, realm bool) int64 {
	switch {
	case resp.StatusCode >= 400:
		return maxErrorBody
	case realm:
		return maxTokenBody
	case !own || (req.Method != http.MethodGet && req.Method != http.MethodHead):
		return 0
	case req.URL.Path == "/v2/" || req.URL.Path == "/v2":
		return maxPingBody
	case strings.Contains(req.URL.Path, "/manifests/") || strings.HasSuffix(req.URL.Path, "/tags/list") ||
		req.URL.Path == "/v2/_catalog" || strings.Contains(req.URL.Path, "/referrers/"):
		return maxManifestBody
	}
	return 0
}

// isRegistry reports whether u is on the registry's own host and port. Docker Hub's API
// host has three names.
func (t *Transport) isRegistry(u *url.URL) bool {
	if t.wild {
		up := u.Port()
		if up == "" {
			up = defaultPort(u.Scheme)
		}
		return up == t.wildPort && t.wildName.MatchSplit(hosts.LowerASCII(u.Hostname()), "")
	}
	own := t.ownHTTPS
	if u.Scheme == "http" {
		own = t.ownHTTP
	}
	if canonicalAddr(u.Host, u.Scheme) == own {
		return true
	}
	return t.hub && hosts.IsDockerHub(u.Host)
}

func (t *Transport) isRealm(u *url.URL) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.realms[canonicalAddr(u.Host, u.Scheme)]
}

func (t *Transport) checkRealm(req *http.Request) error {
	var proxied bool
	if t.base.Proxy != nil {
		if p, err := t.base.Proxy(req); err == nil && p != nil {
			proxied = true
		}
	}
	err := CheckRealm(req.Context(), t.lookup, t.host, req.URL, t.http, proxied)
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrRealmPolicy) {
		return &registry.Error{Op: "token", Registry: t.host, Err: fmt.Errorf("%w: the token service %s %s",
			registry.ErrRealm, untrusted.Text(req.URL.Scheme+"://"+req.URL.Host+req.URL.Path), strings.TrimPrefix(err.Error(), ErrRealmPolicy.Error()+": "))}
	}
	return safeError(err)
}

// learnChallenge records the bearer realms of a 401 from the registry, so credentials may
// go there, and refuses an oversized challenge.
func (t *Transport) learnChallenge(resp *http.Response) error {
	values := resp.Header.Values("WWW-Authenticate")
	n := 0
	for _, v := range values {
		n += len(v)
	}
	if n > maxChallengeBytes {
		return &registry.Error{Op: "ping", Registry: t.host, Err: fmt.Errorf("%w: the WWW-Authenticate challenge is %d bytes, over the limit of %d",
			registry.ErrNotRegistry, n, maxChallengeBytes)}
	}
	for _, v := range values {
		scheme, params := ParseAuthChallenge(v)
		if !strings.EqualFold(scheme, "bearer") || params["realm"] == "" {
			continue
		}
		u, err := url.Parse(params["realm"])
		if err != nil || u.Host == "" {
			continue
		}
		t.mu.Lock()
		if t.realms == nil {
			t.realms = make(map[string]bool)
		}
		if len(t.realms) < maxRealms {
			t.realms[canonicalAddr(u.Host, u.Scheme)] = true
		}
		t.mu.Unlock()
	}
	return nil
}

func authHash(v string) [16]byte {
	sum := sha256.Sum256([]byte(v))
	return [16]byte(sum[:16])
}

func (t *Transport) remember(auth string) {
	h := authHash(auth)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sent[h] {
		return
	}
	if t.sent == nil || len(t.sent) >= maxSentAuth {
		t.sent = make(map[[16]byte]bool)
	}
	t.sent[h] = true
}

// registryAuth reports whether an Authorization value is the registry's: any Basic
// credentials, or a value that was sent to the registry. A bearer token that another host
// issued for itself (go-containerregistry's anonymous exchange after a redirect) is not.
func (t *Transport) registryAuth(auth string) bool {
	if scheme, _, _ := strings.Cut(auth, " "); strings.EqualFold(scheme, "basic") {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sent[authHash(auth)]
}

// refuseHTTP is the error for a plain-http request under a TLS mode that forbids it.
func refuseHTTP(host string, mode registry.TLSMode) error {
	return &registry.Error{Op: "connect", Registry: untrusted.Text(host), Err: fmt.Errorf(
		"%w: a plain-http request was refused: TLS mode %s allows only https, so neither the request nor its credentials leave unencrypted (save the registry in the insecure TLS mode if it really serves plain http)",
		registry.ErrHTTPInSecureMode, mode)}
}

// httpRefuser is registered for the "http" scheme on the *http.Transport of every record
// whose TLS mode is not insecure (transport.ForTLS), so even a caller that uses that
// transport without the Transport wrapper never speaks plain http to the registry.
type httpRefuser struct{ mode registry.TLSMode }

func (h httpRefuser) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody(req)
	return nil, refuseHTTP(req.URL.Host, h.mode)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// readWholeTimeout bounds the time to read a response that is read whole (a variable for
// tests only).
var readWholeTimeout = 60 * time.Second

// errReadTimeout is the cause when a response read whole takes too long.
var errReadTimeout = fmt.Errorf("%w: the server took too long to send a response that is read whole (a ping, manifest, token or error)", registry.ErrTimeout)

// boundedBody ends a body read whole at its limit or its deadline, with an error that
// says so.
type boundedBody struct {
	io.ReadCloser
	ctx         context.Context
	cancel      context.CancelCauseFunc
	timer       *time.Timer
	left, limit int64
	what        string
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells an exact fit from an overflow.
		var one [1]byte
		n, err := b.ReadCloser.Read(one[:])
		if n == 0 && err != nil {
			return 0, b.wrap(err)
		}
		return 0, &registry.Error{Op: "read", Err: fmt.Errorf("%w: the response to %s is larger than %d bytes", registry.ErrNotRegistry, b.what, b.limit)}
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, b.wrap(err)
}

func (b *boundedBody) wrap(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if errors.Is(context.Cause(b.ctx), errReadTimeout) {
		return &registry.Error{Op: "read", Err: fmt.Errorf("%s: %w", b.what, errReadTimeout)}
	}
	return safeError(err)
}

func (b *boundedBody) Close() error {
	b.timer.Stop()
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}

// cancelBody releases the request's context when a streamed body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (c *cancelBody) Close() error {
	err := c.ReadCloser.Close()
	c.cancel(nil)
	return err
}

// safeError keeps err's chain (errors.Is/As) but shows its text bounded and escaped when
// it holds something unsafe to print (a certificate name, a reason phrase).
func safeError(err error) error {
	if err == nil {
		return nil
	}
	txt := err.Error()
	if s := untrusted.Limit(txt, maxErrorRunes); s != txt {
		return &ConnRedactedError{Text: s, Err: err}
	}
	return err
}

// scrubReason is resp's status line without the request's own credentials in any encoding
// (internal/redact): a hostile server may echo the Authorization header in its reason
// phrase, and the phrase is bounded next, which could cut an encoding so that no later
// redaction would recognise it. A standard phrase is returned as is, without work.
func scrubReason(resp *http.Response, auth string) string {
	st := resp.Status
	if auth == "" || len(st) < 4 || st[4:] == http.StatusText(resp.StatusCode) {
		return st
	}
	var s redact.Set
	s.AddAuthorization(auth)
	return s.Replace(st, registry.Redacted)
}

func defaultPort(scheme string) string {
	if scheme == "http" {
		return "80"
	}
	return "443"
}
