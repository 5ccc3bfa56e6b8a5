package transport

import (
	"context"
	"errors"
	"fmt"
	"github.com/regcred/regcred/internal/hosts"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// The realm policy: where a registry may send its credentials for a bearer token exchange.
// The connection test (ping step) and the per-registry Transport (every pull and push
// through Keychain.Transport or Cache.For) apply this one rule, so a record that
// passes its test pulls under the same rule:
//
//   - A realm must be an absolute https URL; http only when the record's TLS mode is
//     insecure.
//   - A realm on the registry's own host (and port) is always allowed.
//   - A realm on another host is resolved (names such as "localhost" or any name that
//     resolves to loopback are caught; "localhost" and "*.localhost" count as loopback
//     without a lookup), and it is refused when any of its addresses is a cloud metadata
//     address (169.254.169.254, 169.254.170.2, fd00:ec2::254, 100.100.100.200), or is
//     loopback, link-local or private (RFC 1918, unique local, shared address space)
//     while the registry's own host is not in that same class. A public realm on another
//     host is allowed (Docker Hub's auth.docker.io), and the connection test reports it
//     as a warning, naming the host that receives the credentials.
//   - A name the registry host or realm does not resolve to locally while the
//     environment routes the request through a proxy counts as public: the proxy
//     resolves it.
//
// The Transport checks twice: before the request leaves (for its error message, and for
// requests that go through a proxy), and again in its dialer on the addresses it really
// connects to, so a realm whose DNS answer changes between the two (DNS rebinding) cannot
// take the credentials to loopback or a metadata service. Through a proxy the proxy
// resolves the name, and only the first check applies.

// addrClass orders address kinds from public to the most internal.
type addrClass int

const (
	classPublic addrClass = iota
	classPrivate
	classLinkLocal
	classLoopback
	classMetadata
)

func (c addrClass) String() string {
	switch c {
	case classPrivate:
		return "a private address"
	case classLinkLocal:
		return "a link-local address"
	case classLoopback:
		return "a loopback address"
	case classMetadata:
		return "a cloud metadata address"
	}
	return "a public address"
}

// metadataAddrs are the instance metadata endpoints of the clouds: AWS (IMDS, ECS task
// metadata, IMDS over IPv6), Azure, Google and Oracle (169.254.169.254), Alibaba.
var metadataAddrs = map[netip.Addr]bool{
	netip.MustParseAddr("169.254.169.254"): true,
	netip.MustParseAddr("169.254.170.2"):   true,
	netip.MustParseAddr("fd00:ec2::254"):   true,
	netip.MustParseAddr("100.100.100.200"): true,
}

var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10") // RFC 6598, carrier-grade NAT

func classifyAddr(a netip.Addr) addrClass {
	a = a.Unmap()
	switch {
	case metadataAddrs[a]:
		return classMetadata
	case a.IsLoopback() || a.IsUnspecified():
		return classLoopback
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		return classLinkLocal
	case a.IsPrivate() || sharedAddressSpace.Contains(a):
		return classPrivate
	}
	return classPublic
}

// lookupFunc resolves a host name to its addresses.
type lookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

func ResolverLookup(r *net.Resolver) lookupFunc {
	if r == nil {
		r = net.DefaultResolver
	}
	return func(ctx context.Context, host string) ([]netip.Addr, error) {
		return r.LookupNetIP(ctx, "ip", host)
	}
}

// hostClass is the most internal class among a host's addresses. host is a host name or
// an IP literal, without port or brackets.
func hostClass(ctx context.Context, lookup lookupFunc, host string) (addrClass, error) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return classifyAddr(a), nil
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return classLoopback, nil
	}
	addrs, err := lookup(ctx, host)
	if err != nil {
		return classPublic, err
	}
	worst := classPublic
	for _, a := range addrs {
		worst = max(worst, classifyAddr(a))
	}
	return worst, nil
}

// errRealmPolicy marks a realm the policy refuses (as opposed to one that does not
// resolve).
var ErrRealmPolicy = errors.New("realm refused by policy")

// checkRealm applies the realm policy to a bearer realm named by the registry at
// registryHost (host[:port] as in URLs). insecure is whether the record's TLS mode is
// insecure; proxied whether the environment routes requests through a proxy. It returns
// nil, or an error wrapping errRealmPolicy whose text says why (no secret, the realm
// escaped by the caller), or a resolution error.
func CheckRealm(ctx context.Context, lookup lookupFunc, registryHost string, realm *url.URL, insecure, proxied bool) error {
	switch realm.Scheme {
	case "https":
	case "http":
		if !insecure {
			return fmt.Errorf("%w: is plain http for a TLS registry, so credentials would travel unencrypted", ErrRealmPolicy)
		}
	default:
		return fmt.Errorf("%w: has the scheme %q; it must be https", ErrRealmPolicy, realm.Scheme)
	}
	if realm.Host == "" {
		return fmt.Errorf("%w: is not an absolute URL", ErrRealmPolicy)
	}
	if SameHostPort(realm.Host, realm.Scheme, registryHost) {
		return nil
	}
	rc, err := hostClass(ctx, lookup, realm.Hostname())
	if err != nil {
		if proxied {
			return nil
		}
		return err
	}
	if rc == classPublic {
		return nil
	}
	if rc == classMetadata {
		return fmt.Errorf("%w: is on %s", ErrRealmPolicy, rc)
	}
	regc, err := hostClass(ctx, lookup, hosts.Hostname(registryHost))
	if err != nil && !proxied {
		return err
	}
	if regc != rc {
		return fmt.Errorf("%w: is on %s, but the registry is on %s", ErrRealmPolicy, rc, regc)
	}
	return nil
}

// sameHostPort compares a URL host with the registry's host[:port], default ports by the
// scheme.
func SameHostPort(urlHost, scheme, registryHost string) bool {
	return canonicalAddr(urlHost, scheme) == canonicalAddr(registryHost, scheme)
}

// canonicalAddr is host:port, lowercase, with the scheme's default port when none is given.
func canonicalAddr(hostport, scheme string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), ""
	}
	if port == "" {
		port = "443"
		if scheme == "http" {
			port = "80"
		}
	}
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.Unmap().String()
	}
	return net.JoinHostPort(strings.ToLower(host), port)
}
