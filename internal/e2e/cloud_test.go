package e2e

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/regcred/regcred/internal/testenv"
)

// cloudProxy is how a plugin the kubelet runs reaches a fake cloud: an HTTPS proxy
// (CONNECT) on loopback, given to the plugin as HTTPS_PROXY, that answers the cloud's real
// host names with certificates from its own CA (the plugin's SSL_CERT_FILE) and hands the
// requests, Host header intact (SigV4 signs it), to the fake. The plugin's SDK resolves
// the real endpoints and verifies TLS as it would in the cloud.
type cloudProxy struct {
	URL    string // http://127.0.0.1:PORT, for HTTPS_PROXY
	CAFile string // the CA of the certificates it answers with, for SSL_CERT_FILE
}

func startCloudProxy(t *testing.T, fake *httptest.Server, hosts ...string) cloudProxy {
	t.Helper()
	ca := testenv.NewCA(t)
	cert := ca.Issue(t, testenv.CertSpec{DNSNames: hosts})
	caFile := filepath.Join(t.TempDir(), "cloud-ca.crt")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	tunnels := &connListener{conns: make(chan net.Conn), done: make(chan struct{})}
	inner := &http.Server{Handler: httputil.NewSingleHostReverseProxy(target)} // keeps the Host header
	go inner.Serve(tunnels)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		if _, err := conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
			conn.Close()
			return
		}
		select {
		case tunnels.conns <- tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}):
		case <-tunnels.done:
			conn.Close()
		}
	}))
	t.Cleanup(func() {
		proxy.Close()
		tunnels.Close()
		inner.Close()
	})
	return cloudProxy{URL: proxy.URL, CAFile: caFile}
}

// connListener is a net.Listener of the proxy's tunnels.
type connListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error { l.once.Do(func() { close(l.done) }); return nil }

func (l *connListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// mirrorTo writes containerd's hosts.toml that sends pulls of host to server (an https
// registry on loopback with caPEM), as a node's operator would for a pull-through cache:
// the image keeps its host, so the kubelet asks the plugin for that host's credentials.
func (n *node) mirrorTo(host, server string, caPEM []byte) {
	n.t.Helper()
	dir := filepath.Join(n.kubelet.HostsDir, host)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		n.t.Fatal(err)
	}
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, caPEM, 0o644); err != nil {
		n.t.Fatal(err)
	}
	toml := fmt.Sprintf("server = %q\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n  ca = %q\n", "https://"+server, "https://"+server, ca)
	if err := os.WriteFile(filepath.Join(dir, "hosts.toml"), []byte(toml), 0o644); err != nil {
		n.t.Fatal(err)
	}
}
