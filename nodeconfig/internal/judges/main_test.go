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
// (wharfie pulls docker.io images from index.docker.io). TestMain makes "Docker Hub" a
// server of the test's: every https request to a host that is not loopback goes through
// hubProxy (HTTPS_PROXY; Go never proxies loopback), which connects index.docker.io:443
// to whatever hubAt names, and the system trust store (SSL_CERT_FILE) holds only hubCA.
// Both are set before any code reads them (net/http and crypto/x509 read them once).
var (
	hubCA = testenv.NewCA(&testing.T{})

	hubMu sync.Mutex
	hubAt string // host:port the proxy connects index.docker.io:443 to; "" refuses
)

// serveHub makes addr the Docker Hub of the test.
func serveHub(t *testing.T, addr string) {
	hubMu.Lock()
	hubAt = addr
	hubMu.Unlock()
	t.Cleanup(func() {
		hubMu.Lock()
		hubAt = ""
		hubMu.Unlock()
	})
}

// hubCert is a certificate for Docker Hub's names, signed by hubCA.
func hubCert(t *testing.T) tls.Certificate {
	return hubCA.Issue(t, testenv.CertSpec{DNSNames: []string{"index.docker.io", "registry-1.docker.io"}})
}

func hubProxy(w http.ResponseWriter, r *http.Request) {
	hubMu.Lock()
	to := hubAt
	hubMu.Unlock()
	if r.Method != http.MethodConnect || r.Host != "index.docker.io:443" || to == "" {
		http.Error(w, "not Docker Hub", http.StatusBadGateway)
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
	proxy := httptest.NewServer(http.HandlerFunc(hubProxy))
	for k, v := range map[string]string{"SSL_CERT_FILE": ca, "SSL_CERT_DIR": dir, "HTTPS_PROXY": proxy.URL, "https_proxy": proxy.URL, "NO_PROXY": "", "no_proxy": ""} {
		os.Setenv(k, v)
	}
	code := m.Run()
	proxy.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}
