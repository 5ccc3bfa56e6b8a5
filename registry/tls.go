package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"strings"
	"time"
)

// TLSMode is how regcred talks TLS to a registry (seed 003's "advanced connection options").
type TLSMode string

const (
	// TLSSecure: https only, verified against the system roots. The default.
	TLSSecure TLSMode = "secure"
	// TLSCustomCA: https verified against the record's CA bundle (and the system roots too
	// when TLS.SystemRoots is set).
	TLSCustomCA TLSMode = "ca"
	// TLSInsecure: explicit opt-in for registries with broken certificates or plain http:
	// verification is skipped and reports say so.
	TLSInsecure TLSMode = "insecure"
)

// TLS is a record's connection settings.
type TLS struct {
	Mode        TLSMode `json:"mode,omitempty"`        // "" means TLSSecure
	CABundle    string  `json:"caBundle,omitempty"`    // PEM, for TLSCustomCA
	SystemRoots bool    `json:"systemRoots,omitempty"` // with TLSCustomCA: trust the system roots too
}

// EffectiveMode is Mode with "" read as TLSSecure.
func (t TLS) EffectiveMode() TLSMode {
	if t.Mode == "" {
		return TLSSecure
	}
	return t.Mode
}

func (t TLS) validate(s Server) error {
	switch t.EffectiveMode() {
	case TLSSecure:
		if s.Scheme == "http" {
			return &FieldError{Field: "url", Reason: "is http:// but TLS mode is secure only",
				Hint: "use https://, or choose the insecure TLS mode for a plain-http registry"}
		}
		if t.CABundle != "" {
			return &FieldError{Field: "tls.caBundle", Reason: "is set but TLS mode is secure only", Hint: "choose the custom CA mode"}
		}
	case TLSCustomCA:
		if s.Scheme == "http" {
			return &FieldError{Field: "url", Reason: "is http:// but TLS mode is custom CA", Hint: "use https://"}
		}
		if _, err := t.pool(); err != nil {
			return err
		}
	case TLSInsecure:
	default:
		return &FieldError{Field: "tls.mode", Reason: "unknown TLS mode " + string(t.Mode), Hint: "secure, ca or insecure"}
	}
	return nil
}

func (t TLS) pool() (*x509.CertPool, error) {
	if t.CABundle == "" {
		return nil, &FieldError{Field: "tls.caBundle", Reason: "is empty", Hint: "paste the registry's CA certificate (PEM, ca.crt)"}
	}
	var pool *x509.CertPool
	if t.SystemRoots {
		sys, err := x509.SystemCertPool()
		if err == nil {
			pool = sys.Clone()
		}
	}
	if pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM([]byte(t.CABundle)) {
		return nil, &FieldError{Field: "tls.caBundle", Reason: "holds no PEM certificate", Hint: "paste the -----BEGIN CERTIFICATE----- block"}
	}
	return pool, nil
}

// Config returns the *tls.Config for the mode.
func (t TLS) Config() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	switch t.EffectiveMode() {
	case TLSCustomCA:
		pool, err := t.pool()
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	case TLSInsecure:
		c.InsecureSkipVerify = true
	}
	return c, nil
}

// Transport returns the *http.Transport under every connection to this registry
// (connection test, Keychain pulls, the CLI; TransportCache wraps it in a Transport):
// proxy from the environment, the TLS mode's config, bounded dial and handshake timeouts
// and response header size. Unless the mode is insecure it refuses plain http (an error
// wrapping ErrHTTPInSecureMode): a secure or custom CA record is never reached over http,
// not even by go-containerregistry's fallback for loopback and private hosts.
func (t TLS) Transport() (*http.Transport, error) {
	cfg, err := t.Config()
	if err != nil {
		return nil, err
	}
	tr := newHTTPTransport(cfg)
	if mode := t.EffectiveMode(); mode != TLSInsecure {
		tr.RegisterProtocol("http", httpRefuser{mode: mode})
	}
	return tr, nil
}

// newHTTPTransport is the *http.Transport every registry connection uses, with cfg.
func newHTTPTransport(cfg *tls.Config) *http.Transport {
	return &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:        cfg,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  30 * time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConnsPerHost:    4,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		ForceAttemptHTTP2:      true,
	}
}

// Handshake dials hostport (port 443 when it names none) and completes a TLS handshake
// under the mode, then hangs up. It is for consumers that hand the credentials to a
// client regcred does not drive (the Docker daemon, which retries a registry it deems
// insecure, loopback by default, over plain http with them): a nil error means the
// registry speaks TLS that the record's mode trusts. In the insecure mode it returns nil
// without dialing. A failure is a *ConnError (Step "tls") whose Kind is
// ErrHTTPInSecureMode for a server that answered in plain HTTP, one of the ErrTLS...
// kinds for a certificate the mode does not trust, or a network kind (ErrDNS,
// ErrConnRefused, ErrTimeout, ErrUnavailable) when the handshake could not start.
func (t TLS) Handshake(ctx context.Context, hostport string) error {
	mode := t.EffectiveMode()
	if mode == TLSInsecure {
		return nil
	}
	cfg, err := t.Config()
	if err != nil {
		return err
	}
	addr := hostport
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		addr = net.JoinHostPort(strings.Trim(hostport, "[]"), "443")
	}
	d := diagnosis{host: hostport, mode: mode}
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return d.network(StepTCP, err)
	}
	defer conn.Close()
	cfg.ServerName = connHostname(addr)
	if err := tls.Client(conn, cfg).HandshakeContext(ctx); err != nil {
		return d.network(StepTLS, err)
	}
	return nil
}

// handshakeTimeout bounds Handshake, as TLSHandshakeTimeout bounds the transport's.
const handshakeTimeout = 10 * time.Second
