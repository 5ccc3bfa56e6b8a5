package conntest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/regcred/regcred/internal/hosts"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	remotetransport "github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/transport"
)

// ConnError is a classified connection test failure: which step, what kind (a sentinel),
// the cause and fix in plain language, and the underlying error. Its text never holds a
// secret.
type Error struct {
	Kind       error             // the sentinel: ErrDNS, ErrTLSExpired, ErrUnauthorized, ...
	Step       registry.StepName // where it happened
	Host       string            // the registry (or token service) host
	Cause      string            // what is wrong, for a user
	Fix        string            // what to do
	RetryAfter time.Duration
	Err        error // the underlying error; may be nil
}

func (e *Error) Error() string {
	s := string(e.Step) + ": "
	if e.Host != "" {
		s += e.Host + ": "
	}
	s += e.Kind.Error()
	if e.Cause != "" && e.Cause != e.Kind.Error() {
		s += ": " + e.Cause
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return untrusted.Limit(s, maxConnErrorRunes) // the underlying error may quote the server
}

// Is matches the kind, so errors.Is(err, ErrTLSExpired) holds.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the underlying error (a *net.DNSError, *tls.CertificateVerificationError,
// *transport.Error, *FieldError, ...).
func (e *Error) Unwrap() error { return e.Err }

// Code is a stable machine name of the kind, for JSON: "dns", "connection_refused",
// "timeout", "tls_unknown_authority", "tls_name_mismatch", "tls_expired", "tls_handshake",
// "http_in_secure_mode", "not_a_registry", "realm", "rate_limited", "invalid",
// "unauthorized", "forbidden", "not_found", "expired", "unavailable", "canceled".
func (e *Error) Code() string {
	switch e.Kind {
	case registry.ErrDNS:
		return "dns"
	case registry.ErrConnRefused:
		return "connection_refused"
	case registry.ErrTimeout:
		return "timeout"
	case registry.ErrTLSUnknownAuthority:
		return "tls_unknown_authority"
	case registry.ErrTLSNameMismatch:
		return "tls_name_mismatch"
	case registry.ErrTLSExpired:
		return "tls_expired"
	case registry.ErrTLSHandshake:
		return "tls_handshake"
	case registry.ErrHTTPInSecureMode:
		return "http_in_secure_mode"
	case registry.ErrNotRegistry:
		return "not_a_registry"
	case registry.ErrRealm:
		return "realm"
	case registry.ErrRateLimited:
		return "rate_limited"
	case registry.ErrInvalid:
		return "invalid"
	case registry.ErrUnauthorized:
		return "unauthorized"
	case registry.ErrForbidden:
		return "forbidden"
	case registry.ErrNotFound:
		return "not_found"
	case registry.ErrExpired:
		return "expired"
	case context.Canceled:
		return "canceled"
	}
	return "unavailable"
}

var _ error = (*Error)(nil)

// diagnosis is the context a classification needs to say something useful.
type diagnosis struct {
	host    string           // host[:port] under test
	mode    registry.TLSMode // the record's TLS mode
	timeout time.Duration
}

// network classifies a DNS, dial, TLS or HTTP transport error.
func (d diagnosis) network(step registry.StepName, err error) *Error {
	ce := &Error{Step: step, Host: d.host, Err: err}
	var (
		dnsErr   *net.DNSError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		recHdr   tls.RecordHeaderError
		verifErr *tls.CertificateVerificationError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || isNetTimeout(err):
		ce.Kind = registry.ErrTimeout
		ce.Cause = "no answer within the time limit"
		if d.timeout > 0 {
			ce.Cause = "no answer within " + d.timeout.String()
		}
		switch step {
		case registry.StepTCP:
			ce.Fix = "check that the host and port are right and that no firewall drops the connection"
		case registry.StepTLS:
			ce.Fix = "the server accepted the connection but did not complete a TLS handshake: check the port serves the registry over TLS"
		default:
			ce.Fix = "the server accepted the connection but did not answer: check the registry is healthy and the port is the registry's, or raise the timeout"
		}
	case errors.Is(err, context.Canceled):
		ce.Kind = context.Canceled
		ce.Cause = "the test was canceled"
	case errors.As(err, &dnsErr):
		ce.Kind = registry.ErrDNS
		if dnsErr.IsTimeout {
			ce.Kind = registry.ErrTimeout
			ce.Cause = "the DNS server did not answer"
			ce.Fix = "check the machine's DNS configuration"
			break
		}
		ce.Cause = "the host name " + strconv.Quote(untrusted.Text(dnsErr.Name)) + " does not resolve"
		ce.Fix = "check the spelling of the registry URL; for a private registry, check that this machine's DNS knows the name"
	case errors.Is(err, registry.ErrHTTPInSecureMode):
		ce.Kind = registry.ErrHTTPInSecureMode
		ce.Cause = "a request to plain http was refused: the TLS mode " + string(d.mode) + " allows only https"
		ce.Fix = "give an https URL; for a plain-http registry choose the insecure TLS mode and write the URL as http://" + d.host
	case errors.Is(err, registry.ErrRealm):
		ce.Kind = registry.ErrRealm
		ce.Cause = "the credentials would go to a token service the realm policy refuses"
		ce.Fix = "the registry's auth configuration is wrong (auth.token.realm); ask its operator"
	case errors.Is(err, registry.ErrNotRegistry):
		ce.Kind = registry.ErrNotRegistry
		ce.Cause = "the server's answer is not one a registry gives (oversized headers, challenge or body)"
		ce.Fix = "check the URL points at the registry's API host and port"
	case errors.Is(err, syscall.ECONNREFUSED):
		ce.Kind = registry.ErrConnRefused
		ce.Cause = "nothing accepts connections on " + d.host
		ce.Fix = "check the port (registries often listen on 5000 or 443) and that the registry is running"
	case errors.As(err, &recHdr) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		ce.Kind = registry.ErrHTTPInSecureMode
		ce.Cause = "the server answers plain HTTP, not TLS, and the TLS mode " + string(d.mode) + " requires TLS"
		ce.Fix = "enable TLS on the registry, or choose the insecure TLS mode and write the URL as http://" + d.host
	case errors.As(err, &unknown) || (errors.As(err, &verifErr) && errors.As(verifErr.Err, &unknown)):
		ce.Kind = registry.ErrTLSUnknownAuthority
		ce.Cause = "the certificate is signed by an authority this TLS mode does not trust"
		if d.mode == registry.TLSCustomCA {
			ce.Cause = "the certificate is not signed by the CA bundle saved for this registry"
			ce.Fix = "paste the CA certificate that issued the registry's certificate (ca.crt), or also trust the system roots"
		} else {
			ce.Fix = "choose the custom CA mode and paste the registry's CA certificate (PEM); use the insecure mode only as a last resort"
		}
		if unknown.Cert != nil {
			ce.Cause += " (issuer: " + untrusted.Text(unknown.Cert.Issuer.String()) + ")"
		}
	case errors.As(err, &hostErr):
		ce.Kind = registry.ErrTLSNameMismatch
		names := certSubjectNames(hostErr.Certificate)
		host := untrusted.Text(hostErr.Host)
		ce.Cause = "the certificate is for " + names + ", not for " + host
		ce.Fix = "use a URL whose host the certificate names (" + names + "), or reissue the certificate with " + host + " in its subject alternative names"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		ce.Kind = registry.ErrTLSExpired
		ce.Cause = "the certificate is outside its validity period"
		if c := invalid.Cert; c != nil {
			if time.Now().After(c.NotAfter) {
				ce.Cause = "the certificate expired on " + c.NotAfter.UTC().Format(time.RFC3339)
			} else {
				ce.Cause = "the certificate is not valid before " + c.NotBefore.UTC().Format(time.RFC3339)
			}
		}
		ce.Fix = "renew the registry's certificate (and check this machine's clock)"
	case errors.As(err, &invalid) || errors.As(err, &verifErr) || isTLSAlert(err):
		ce.Kind = registry.ErrTLSHandshake
		ce.Cause = "the TLS handshake failed"
		ce.Fix = "check the registry's TLS configuration (protocol version, certificate chain)"
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		ce.Kind = registry.ErrUnavailable
		ce.Cause = "no route to " + d.host
		ce.Fix = "check the network between this machine and the registry (VPN, firewall)"
	default:
		ce.Kind = registry.ErrUnavailable
		ce.Cause = "the connection failed"
		ce.Fix = "check the registry is reachable from this machine"
	}
	return ce
}

// status classifies an HTTP answer that is not the expected one.
func (d diagnosis) status(step registry.StepName, resp *http.Response, what string) *Error {
	ce := &Error{Step: step, Host: d.host, Err: fmt.Errorf("%s: HTTP %d", what, resp.StatusCode)}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		ce.Kind = registry.ErrRateLimited
		ce.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		ce.Cause = "the registry is rate limiting requests from this client"
		ce.Fix = "wait and try again"
		if ce.RetryAfter > 0 {
			ce.Cause += "; it asks to wait " + ce.RetryAfter.String()
			ce.Fix = "try again after " + ce.RetryAfter.String()
		}
		if hosts.IsDockerHub(hosts.Hostname(d.host)) {
			ce.Fix += "; Docker Hub limits anonymous pulls more than authenticated ones: save credentials for it"
		}
	case code == http.StatusUnauthorized:
		ce.Kind = registry.ErrUnauthorized
		ce.Cause = "the registry refused the credentials"
		ce.Fix = "check the username and password (or token) saved for this registry"
	case code == http.StatusForbidden:
		ce.Kind = registry.ErrForbidden
		ce.Cause = "the credentials are valid but lack a permission"
		ce.Fix = "grant the account access to the repository"
		if hosts.Hostname(d.host) == "ghcr.io" {
			ce.Fix = "the GitHub token needs the read:packages scope (write:packages to push) and access to the package"
		}
	case code == http.StatusNotFound:
		ce.Kind = registry.ErrNotFound
		ce.Cause = what + " was not found"
		ce.Fix = "check the name and tag"
	case code >= 500:
		ce.Kind = registry.ErrUnavailable
		ce.Cause = "the registry answered with a server error (" + reason(resp) + ")"
		ce.Fix = "the registry is unhealthy; try again later or ask its operator"
	default:
		ce.Kind = registry.ErrNotRegistry
		ce.Cause = "unexpected answer " + reason(resp) + " to " + what
		ce.Fix = "check the URL points at the registry's API host, not a web page"
	}
	return ce
}

// exchange classifies a failed bearer token exchange.
func (d diagnosis) exchange(err error, realm string) *Error {
	var terr *remotetransport.Error
	if errors.As(err, &terr) {
		resp := &http.Response{StatusCode: terr.StatusCode, Status: strconv.Itoa(terr.StatusCode) + " " + http.StatusText(terr.StatusCode), Header: http.Header{}}
		if terr.Request != nil && terr.Request.Response != nil {
			resp.Header = terr.Request.Response.Header
		}
		ce := d.status(registry.StepAuth, resp, "the token request")
		ce.Err = err
		switch terr.StatusCode {
		case http.StatusUnauthorized:
			ce.Cause = "the token service " + realm + " refused the credentials"
		case http.StatusForbidden:
			ce.Cause = "the token service " + realm + " refused access for these credentials"
		case http.StatusNotFound:
			ce.Kind = registry.ErrRealm
			ce.Cause = "the token service " + realm + " does not exist (404)"
			ce.Fix = "the registry's auth configuration is wrong; ask its operator"
		}
		return ce
	}
	if strings.Contains(err.Error(), "invalid realm") {
		return &Error{Kind: registry.ErrRealm, Step: registry.StepAuth, Host: d.host, Err: err,
			Cause: "the registry names a token service this library refuses to call: " + realm,
			Fix:   "the realm must be https (http only in the insecure TLS mode) and not on a loopback, link-local, private or cloud metadata address unless the registry is on that same kind of address"}
	}
	ce := d.network(registry.StepAuth, err)
	ce.Cause = "the token service " + realm + ": " + ce.Cause
	return ce
}

// parseRetryAfter parses a Retry-After header: delta seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isTLSAlert(err error) bool {
	var alert tls.AlertError
	return errors.As(err, &alert) || strings.Contains(err.Error(), "tls: ")
}

// reason is the status line's code and reason phrase, bounded and escaped: the reason
// phrase is the server's free text.
func reason(resp *http.Response) string {
	return untrusted.Limit(resp.Status, transport.MaxReasonRunes)
}

// certSubjectNames lists the names a certificate is for, bounded and escaped: a hostile
// certificate's subject may hold terminal escapes.
func certSubjectNames(c *x509.Certificate) string {
	s := certNames(c)
	return untrusted.Text(s)
}

func certNames(c *x509.Certificate) string {
	if c == nil {
		return "another name"
	}
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName)
	}
	if len(names) == 0 {
		return "no name"
	}
	return strings.Join(names, ", ")
}
