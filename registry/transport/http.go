package transport

import (
	"crypto/tls"
	"github.com/regcred/regcred/registry"
	"net"
	"net/http"
	"time"
)

// TLSTransport returns the *http.Transport under every connection to this registry
// (connection test, Keychain pulls, the CLI; Cache wraps it in a Transport):
// proxy from the environment, the TLS mode's config, bounded dial and handshake timeouts
// and response header size. Unless the mode is insecure it refuses plain http (an error
// wrapping ErrHTTPInSecureMode): a secure or custom CA record is never reached over http,
// not even by go-containerregistry's fallback for loopback and private hosts.
func ForTLS(t registry.TLS) (*http.Transport, error) {
	cfg, err := t.Config()
	if err != nil {
		return nil, err
	}
	tr := newHTTPTransport(cfg)
	if mode := t.EffectiveMode(); mode != registry.TLSInsecure {
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
