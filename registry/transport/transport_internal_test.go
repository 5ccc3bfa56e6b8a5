package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regcred/regcred/registry"
)

// A registry that trickles its GET /v2/ body forever (one byte at a time, well inside any
// idle timeout) cannot hold a caller that gave no deadline: the body read whole has a
// time bound of its own.
func TestTransportBoundsSlowBodies(t *testing.T) {
	old := readWholeTimeout
	readWholeTimeout = 300 * time.Millisecond
	defer func() { readWholeTimeout = old }()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for {
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}))
	defer srv.Close()
	defer srv.CloseClientConnections()
	host := strings.TrimPrefix(srv.URL, "http://")
	var c Cache
	tr, err := c.For(registry.Registry{Kind: registry.KindCustom, Server: "http://" + host, TLS: registry.TLS{Mode: registry.TLSInsecure}})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v2/", "/v2/team/app/manifests/v1"} {
		start := time.Now()
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if !errors.Is(err, registry.ErrTimeout) {
			t.Fatalf("%s: read error %v, want ErrTimeout", path, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%s: took %s", path, d)
		}
	}
	// A blob streams without a time bound of its own.
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/v2/team/app/blobs/sha256:00")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	done := make(chan error, 1)
	go func() { _, err := io.CopyN(io.Discard, resp.Body, 40); done <- err }()
	if err := <-done; err != nil {
		t.Fatalf("blob read: %v", err)
	}
}

// A realm name whose DNS answer changes between the check before the request (a public
// address) and the dial (loopback): the dial checks the addresses it really connects to,
// so the credentials never reach the loopback token service.
func TestTransportRealmRebinding(t *testing.T) {
	var tokenConns atomic.Int64
	tok := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"token":"t"}`) }))
	tok.Config.ConnState = func(net.Conn, http.ConnState) { tokenConns.Add(1) }
	tok.Start()
	defer tok.Close()
	_, port, _ := net.SplitHostPort(tok.Listener.Addr().String())

	var calls atomic.Int64
	lookup := func(_ context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "registry.example":
			return []netip.Addr{netip.MustParseAddr("203.0.113.10")}, nil
		case "rebind.example":
			if calls.Add(1) == 1 {
				return []netip.Addr{netip.MustParseAddr("203.0.113.11")}, nil
			}
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		return nil, errors.New("no such host")
	}
	rec := registry.Registry{Kind: registry.KindCustom, Server: "http://registry.example", TLS: registry.TLS{Mode: registry.TLSInsecure}}
	base, err := ForTLS(rec.TLS)
	if err != nil {
		t.Fatal(err)
	}
	base.Proxy = nil
	tr := newTransport(base, rec, "")
	tr.lookup = lookup
	base.DialContext = tr.guardDial(base.DialContext)
	tr.realms = map[string]bool{canonicalAddr("rebind.example:"+port, "http"): true} // as learned from a challenge

	req, _ := http.NewRequest(http.MethodGet, "http://rebind.example:"+port+"/token?service=x", nil)
	req.SetBasicAuth("robot", "s3cret")
	_, err = tr.RoundTrip(req)
	if !errors.Is(err, registry.ErrRealm) {
		t.Fatalf("want the rebound realm refused with ErrRealm, got %v", err)
	}
	if calls.Load() < 2 {
		t.Fatalf("the realm was resolved %d times; the dial did not check", calls.Load())
	}
	if n := tokenConns.Load(); n != 0 {
		t.Fatalf("the loopback token service got %d connection events", n)
	}
}

// A wildcard registry's own hosts are exactly the hosts its pattern covers: "*" is one
// non-empty DNS label and the port must be the pattern's. connWildcardMatch, the
// transport's own copy before the one matcher, took ".azurecr.io" and "a..example.com"
// as the registry's host (an empty label), so credentials could follow such a URL.
func TestTransportWildcardOwnHosts(t *testing.T) {
	for _, tc := range []struct {
		server, url string
		want        bool
	}{
		{"*.azurecr.io", "https://myreg.azurecr.io/v2/", true},
		{"*.azurecr.io", "https://MyReg.AzureCR.io/v2/", true},
		{"*.azurecr.io", "https://.azurecr.io/v2/", false},
		{"*.azurecr.io", "https://a.b.azurecr.io/v2/", false},
		{"*.azurecr.io", "https://myreg.azurecr.io:8443/v2/", false},
		{"*.azurecr.io", "https://myreg.azurecr.io:443/v2/", true},
		{"*.dkr.ecr.*.amazonaws.com", "https://1.dkr.ecr..amazonaws.com/v2/", false},
		{"*.dkr.ecr.*.amazonaws.com", "https://1.dkr.ecr.eu-west-1.amazonaws.com/v2/", true},
	} {
		rec := registry.Registry{Kind: registry.KindCustom, Server: tc.server}
		base, err := ForTLS(rec.TLS)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := newTransport(base, rec, "").isRegistry(u); got != tc.want {
			t.Errorf("%s: isRegistry(%s) = %v, want %v", tc.server, tc.url, got, tc.want)
		}
	}
}
