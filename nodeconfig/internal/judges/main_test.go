package judges

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/regcred/regcred/internal/testenv"
)

// Docker Hub is out of reach here, and the runtimes' own code insists on its real names
// (wharfie pulls docker.io images from index.docker.io), and on a non-loopback name for a
// registry it should not treat as local. TestMain sends every https request to a host
// that is not loopback through routeProxy (HTTPS_PROXY; Go never proxies loopback),
// which connects the names a test routes (serveAs) to the test's servers, and makes the
// system trust store (SSL_CERT_FILE) hold only hubCA. Both are set before any code reads
// them (net/http and crypto/x509 read them once).
var (
	hubCA = testenv.NewCA(&testing.T{})

	routesMu sync.Mutex
	routes   = map[string]string{} // host:port a client asks for -> host:port of the test's server
)

// serveAs routes https requests for name ("index.docker.io:443", "lab.internal:5000")
// to addr until the test ends.
func serveAs(t *testing.T, name, addr string) {
	routesMu.Lock()
	routes[name] = addr
	routesMu.Unlock()
	t.Cleanup(func() {
		routesMu.Lock()
		delete(routes, name)
		routesMu.Unlock()
	})
}

// serveHub makes addr the Docker Hub of the test.
func serveHub(t *testing.T, addr string) { serveAs(t, "index.docker.io:443", addr) }

// hubCert is a certificate for Docker Hub's names, signed by hubCA.
func hubCert(t *testing.T) tls.Certificate {
	return hubCA.Issue(t, testenv.CertSpec{DNSNames: []string{"index.docker.io", "registry-1.docker.io"}})
}

// routeProxy is the CONNECT proxy of every https request the code under test makes to a
// host that is not loopback: a routed name is connected to the test's server, any other
// refused (there is no internet here).
func routeProxy(w http.ResponseWriter, r *http.Request) {
	routesMu.Lock()
	to := routes[r.Host]
	routesMu.Unlock()
	if r.Method != http.MethodConnect || to == "" {
		http.Error(w, "no route for "+r.Host, http.StatusBadGateway)
		return
	}
	up, err := net.Dial("tcp", to)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusOK)
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		return
	}
	go func() {
		io.Copy(up, buf)
		up.Close()
	}()
	io.Copy(conn, up)
	conn.Close()
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "judges")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ca := filepath.Join(dir, "system-ca.pem")
	if err := os.WriteFile(ca, hubCA.CertPEM, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	proxy := httptest.NewServer(http.HandlerFunc(routeProxy))
	for k, v := range map[string]string{"SSL_CERT_FILE": ca, "SSL_CERT_DIR": dir, "HTTPS_PROXY": proxy.URL, "https_proxy": proxy.URL, "NO_PROXY": "", "no_proxy": ""} {
		os.Setenv(k, v)
	}
	code := m.Run()
	proxy.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}
