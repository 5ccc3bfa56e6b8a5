package conntest

import (
	"context"
	"crypto/tls"
	"github.com/regcred/regcred/internal/hosts"
	"github.com/regcred/regcred/registry"
	"net"
	"strings"
	"time"
)

// Handshake dials hostport (port 443 when it names none) and completes a TLS handshake
// under the mode, then hangs up. It is for consumers that hand the credentials to a
// client regcred does not drive (the Docker daemon, which retries a registry it deems
// insecure, loopback by default, over plain http with them): a nil error means the
// registry speaks TLS that the record's mode trusts. In the insecure mode it returns nil
// without dialing. A failure is a *ConnError (Step "tls") whose Kind is
// ErrHTTPInSecureMode for a server that answered in plain HTTP, one of the ErrTLS...
// kinds for a certificate the mode does not trust, or a network kind (ErrDNS,
// ErrConnRefused, ErrTimeout, ErrUnavailable) when the handshake could not start.
func Handshake(ctx context.Context, t registry.TLS, hostport string) error {
	mode := t.EffectiveMode()
	if mode == registry.TLSInsecure {
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
		return d.network(registry.StepTCP, err)
	}
	defer conn.Close()
	cfg.ServerName = hosts.Hostname(addr)
	if err := tls.Client(conn, cfg).HandshakeContext(ctx); err != nil {
		return d.network(registry.StepTLS, err)
	}
	return nil
}

// handshakeTimeout bounds Handshake, as TLSHandshakeTimeout bounds the transport's.
const handshakeTimeout = 10 * time.Second
