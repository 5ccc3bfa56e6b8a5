package transport_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
	"github.com/regcred/regcred/registry/transport"
)

// Hostile registries on loopback: what a server controls (bodies, headers, challenges,
// reason phrases, certificate names) is bounded and escaped on the Keychain path and in
// the connection test, even when the caller gives no deadline.

// unsafeBytes reports the first byte of s that must never reach a terminal raw: C0
// controls, DEL, and the UTF-8 encodings of C1 controls and bidi overrides.
func unsafeBytes(s string) (string, bool) {
	for _, bad := range []string{"\x1b", "\x07", "\x00", "\r", "\x7f", "\u009b", "\u202e", "\u2066"} {
		if strings.Contains(s, bad) {
			return bad, true
		}
	}
	return "", false
}

// withinTime runs f and fails when it does not return in d: the behaviour under test is
// that nothing a server sends can hold a pull forever.
func withinTime(t *testing.T, d time.Duration, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("still running after %s", d)
		return nil
	}
}

func TestHostileEndlessPingBody(t *testing.T) {
	srv, _ := wireServer(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/" {
			http.NotFound(w, r)
			return
		}
		chunk := []byte(strings.Repeat("x", 32<<10))
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}), nil)
	t.Cleanup(srv.CloseClientConnections) // runs before srv.Close, so a failed run does not block
	host := fixture.ServerHost(srv)
	rec := wireRecord("http://"+host, registry.TLS{Mode: registry.TLSInsecure})
	// No deadline anywhere: context.Background.
	err := withinTime(t, 20*time.Second, func() error { return pullThroughKeychain(context.Background(), rec, host+"/team/app:v1") })
	if err == nil {
		t.Fatal("pulled an image from a server that has none")
	}
	rep := conntest.Test(context.Background(), rec)
	if s := rep.Step(registry.StepPing); s.Verdict != registry.VerdictOK {
		t.Fatalf("ping: %s %s", s.Verdict, s.Cause)
	}
	// No saved registry matches: an anonymous pull through Keychain.Transport is bounded
	// the same way.
	other := wireRecord("other.example", registry.TLS{})
	err = withinTime(t, 20*time.Second, func() error { return pullThroughKeychain(context.Background(), other, host+"/team/app:v1") })
	if err == nil {
		t.Fatal("pulled an image from a server that has none")
	}
}

// An image no saved registry matches, on a local plain-HTTP registry: the anonymous pull
// through Keychain.Transport still works (go-containerregistry's fallback to http for
// loopback; there are no credentials to protect).
func TestAnonymousPullFromLocalPlainHTTP(t *testing.T) {
	srv, w := wireServer(t, "", quietRegistry(), nil)
	host := fixture.ServerHost(srv)
	pushRandom(t, mustRefInsecure(t, host+"/team/app:v1"), http.DefaultTransport)
	w.reset()
	if err := pullThroughKeychain(context.Background(), wireRecord("other.example", registry.TLS{}), host+"/team/app:v1"); err != nil {
		t.Fatal(err)
	}
	if w.requests.Load() == 0 || w.authed.Load() != 0 {
		t.Fatalf("requests: %s", w.log())
	}
}

func mustRefInsecure(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestHostileHugeHeaders(t *testing.T) {
	big := strings.Repeat("A", 1<<20)
	srv, _ := wireServer(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Padding", big)
		w.WriteHeader(http.StatusOK)
	}), nil)
	host := fixture.ServerHost(srv)
	rec := wireRecord("http://"+host, registry.TLS{Mode: registry.TLSInsecure})
	err := pullThroughKeychain(context.Background(), rec, host+"/team/app:v1")
	if err == nil || !strings.Contains(err.Error(), "headers exceeded") {
		t.Fatalf("keychain path: want the 1 MB header refused, got %v", err)
	}
	rep := conntest.Test(context.Background(), rec)
	if s := rep.Step(registry.StepPing); s.Verdict != registry.VerdictFailed || !strings.Contains(s.Err.Error(), "headers exceeded") {
		t.Fatalf("ping: %s %v", s.Verdict, s.Err)
	}
	if len(rep.String()) > 8<<10 {
		t.Fatalf("the report is %d bytes", len(rep.String()))
	}
}

func TestHostileLongChallenge(t *testing.T) {
	srv, _ := wireServer(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://auth.example/token",service="`+strings.Repeat("s", 16<<10)+`"`)
		w.WriteHeader(http.StatusUnauthorized)
	}), nil)
	host := fixture.ServerHost(srv)
	rec := wireRecord("http://"+host, registry.TLS{Mode: registry.TLSInsecure})
	err := pullThroughKeychain(context.Background(), rec, host+"/team/app:v1")
	if err == nil || !strings.Contains(err.Error(), "WWW-Authenticate challenge is") {
		t.Fatalf("keychain path: want the 16 KiB challenge refused, got %v", err)
	}
	rep := conntest.Test(context.Background(), rec)
	if s := rep.Step(registry.StepPing); s.Verdict != registry.VerdictFailed || !errors.Is(s.Err, registry.ErrNotRegistry) {
		t.Fatalf("ping: %s %v", s.Verdict, s.Err)
	}
}

func TestHostileReasonPhrase(t *testing.T) {
	host := fixture.RawServer(t, "HTTP/1.1 404 \x1b[2J\x1b[H\x1b]0;pwned\x07Boom \u202eetirw\r\nContent-Length: 0\r\n\r\n")
	rec := wireRecord("http://"+host, registry.TLS{Mode: registry.TLSInsecure})
	rep := conntest.Test(context.Background(), rec)
	if rep.OK() {
		t.Fatal("the test passed against a 404")
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"String": rep.String(), "JSON": string(js), "Err": rep.Err().Error()} {
		if b, bad := unsafeBytes(text); bad {
			t.Errorf("%s holds %q raw:\n%s", what, b, text)
		}
	}
	if !strings.Contains(rep.String(), `\x1b[2J`) {
		t.Errorf("the escaped reason phrase is not shown:\n%s", rep)
	}
	err = pullThroughKeychain(context.Background(), rec, host+"/team/app:v1")
	if err == nil {
		t.Fatal("pulled from a server answering 404")
	}
	if b, bad := unsafeBytes(err.Error()); bad {
		t.Errorf("keychain path error holds %q raw: %q", b, err)
	}
}

func TestHostileCertificateNames(t *testing.T) {
	ca := testenv.NewCA(t)
	cert := ca.Issue(t, testenv.CertSpec{DNSNames: []string{"evil\x1b[2J\x1b]0;pwned\x07.example"}})
	srv, _ := wireServer(t, "", http.NotFoundHandler(), &cert)
	host := "localhost:" + strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port) // by name: Go's error lists the certificate's names
	rec := wireRecord(host, registry.TLS{Mode: registry.TLSCustomCA, CABundle: string(ca.CertPEM)})
	rep := conntest.Test(context.Background(), rec)
	s := rep.Step(registry.StepTLS)
	if s.Verdict != registry.VerdictFailed || !errors.Is(s.Err, registry.ErrTLSNameMismatch) {
		t.Fatalf("tls: %s %v", s.Verdict, s.Err)
	}
	js, _ := json.Marshal(rep)
	for what, text := range map[string]string{"String": rep.String(), "JSON": string(js), "Err": rep.Err().Error()} {
		if b, bad := unsafeBytes(text); bad {
			t.Errorf("%s holds %q raw:\n%s", what, b, text)
		}
	}
	err := pullThroughKeychain(context.Background(), rec, host+"/team/app:v1")
	if err == nil || !strings.Contains(err.Error(), `evil\x1b[2J`) {
		t.Fatalf("keychain path: want the name mismatch with the name escaped, got %q", err)
	}
	if b, bad := unsafeBytes(err.Error()); bad {
		t.Errorf("keychain path error holds %q raw: %q", b, err)
	}
}

// A server that echoes the request's Authorization in its reason phrase gets it back
// scrubbed, before the phrase is bounded: a bound that cut the base64 would leave a
// prefix no later redaction recognises ("YWxpY2U6aHVudGVy" is "alice:hunter").
func TestHostileReasonPhraseEchoesAuthorization(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte("alice:hunter2-s3cret"))
	host := fixture.RawServer(t, "HTTP/1.1 502 you sent "+strings.Repeat("x", 30)+" Basic "+basic+"\r\nContent-Length: 0\r\n\r\n")
	tr, err := new(transport.Cache).For(wireRecord("http://"+host, registry.TLS{Mode: registry.TLSInsecure}))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/v2/team/app/manifests/v1", nil)
	req.Header.Set("Authorization", "Basic "+basic)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if strings.Contains(resp.Status, basic[:12]) || !strings.Contains(resp.Status, registry.Redacted) {
		t.Fatalf("status %q holds the credentials", resp.Status)
	}
}
