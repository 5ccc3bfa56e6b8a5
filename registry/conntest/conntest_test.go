package conntest_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
	"github.com/regcred/regcred/registry/transport"
)

// Loopback servers for the verdicts a distribution registry cannot be made to produce:
// closed port, unresolvable name, a server that never answers, 429, odd answers to /v2/.
// They speak the registry wire format (challenges, Retry-After) and are reached through the
// real network stack.

// connHangServer accepts connections and never writes a byte.
func connHangServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func connClosedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestConnNetworkVerdicts(t *testing.T) {
	hang := connHangServer(t)
	short := []conntest.Option{conntest.WithTimeout(300 * time.Millisecond)}
	runConnVerdictCases(t, []connVerdictCase{
		{name: "closed port", reg: connRecord(connClosedPort(t), registry.TLSSecure, nil, "", ""),
			want: connWant("fields=ok", "dns=ok", "tcp=failed"), kind: registry.ErrConnRefused, inCause: "nothing accepts connections", rounds: 0},
		{name: "name does not resolve", reg: connRecord("registry.regcred-test.invalid", registry.TLSSecure, nil, "", ""),
			want: connWant("fields=ok", "dns=failed"), kind: registry.ErrDNS, inCause: "does not resolve", rounds: 0},
		{name: "accepts and never answers (http)", reg: connRecord("http://"+hang, registry.TLSInsecure, nil, "", ""), opts: short,
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=warning", "ping=failed"), kind: registry.ErrTimeout, inCause: "did not answer", rounds: 1},
		{name: "accepts and never answers (TLS handshake)", reg: connRecord(hang, registry.TLSSecure, nil, "", ""), opts: short,
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=failed"), kind: registry.ErrTimeout, inCause: "TLS handshake", rounds: 0},
	})
}

func TestConnTimeoutFromContext(t *testing.T) {
	hang := connHangServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	rep := conntest.Test(ctx, connRecord("http://"+hang, registry.TLSInsecure, nil, "", "")) // default 30s limit; ctx is shorter
	if err := rep.Err(); !errors.Is(err, registry.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err() = %v, want ErrTimeout wrapping context.DeadlineExceeded\n%s", err, rep)
	}
}

func TestConnHTTPVerdicts(t *testing.T) {
	rateLimited := fixture.V2Server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		http.Error(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`, http.StatusTooManyRequests)
	})
	notRegistry := fixture.V2Server(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	broken := fixture.V2Server(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusBadGateway) })
	noChallenge := fixture.V2Server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	challenge := func(v string) *httptest.Server {
		return fixture.V2Server(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", v)
			w.WriteHeader(http.StatusUnauthorized)
		})
	}
	insecure := func(s *httptest.Server) registry.Registry {
		return connRecord(s.URL, registry.TLSInsecure, nil, "u", "p")
	}
	upTo := func(last string) []string {
		out := []string{"fields=ok", "dns=ok", "tcp=ok", "tls=warning"}
		return connWant(append(out, last)...)
	}
	runConnVerdictCases(t, []connVerdictCase{
		{name: "429 with Retry-After", reg: insecure(rateLimited), want: upTo("ping=failed"), kind: registry.ErrRateLimited, inCause: "2m0s", rounds: 1},
		{name: "not a registry", reg: insecure(notRegistry), want: upTo("ping=failed"), kind: registry.ErrNotRegistry, inCause: "API host", rounds: 1},
		{name: "server error", reg: insecure(broken), want: upTo("ping=failed"), kind: registry.ErrUnavailable, rounds: 1},
		{name: "401 without challenge", reg: insecure(noChallenge), want: upTo("ping=failed"), kind: registry.ErrNotRegistry, inCause: "without saying how", rounds: 1},
		{name: "realm with ftp scheme", reg: insecure(challenge(`Bearer realm="ftp://auth.example/token"`)), want: upTo("ping=failed"), kind: registry.ErrRealm, rounds: 1},
		{name: "realm on a private address", reg: insecure(challenge(`Bearer realm="http://10.1.2.3/token",service="x"`)), want: upTo("ping=failed"), kind: registry.ErrRealm, inCause: "private address", rounds: 1},
		{name: "realm missing", reg: insecure(challenge(`Bearer service="x"`)), want: upTo("ping=failed"), kind: registry.ErrRealm, rounds: 1},
		{name: "unknown scheme", reg: insecure(challenge(`Negotiate`)), want: upTo("ping=failed"), kind: registry.ErrNotRegistry, rounds: 1},
	})
	rep := conntest.Test(context.Background(), insecure(rateLimited))
	var ce *conntest.Error
	if !errors.As(rep.Err(), &ce) || ce.RetryAfter != 2*time.Minute {
		t.Fatalf("RetryAfter: %#v", ce)
	}
}

// TestConnRealmPlainHTTPForTLSRegistry: a TLS registry must not send clients to an http
// token service.
func TestConnRealmPlainHTTPForTLSRegistry(t *testing.T) {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="http://auth.example/token",service="x"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer s.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	rep := conntest.Test(context.Background(), connRecord(fixture.ServerHost(s), registry.TLSCustomCA, ca, "u", "p"))
	if !errors.Is(rep.Err(), registry.ErrRealm) || !strings.Contains(rep.Failed().Cause, "unencrypted") {
		t.Fatalf("want ErrRealm about plain http:\n%s", rep)
	}
}

// TestConnRedaction: a token service that echoes the password in its error must not get it
// into the report, its JSON, its text or its error.
func TestConnRedaction(t *testing.T) {
	const password = "hunter2-very-secret"
	var reg *httptest.Server
	reg = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/token":
			_, pass, _ := r.BasicAuth()
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad password %s"}]}`, pass)
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+reg.URL+`/token",service="svc"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer reg.Close()
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rep := conntest.Test(context.Background(), connRecord(reg.URL, registry.TLSInsecure, nil, "alice", password), conntest.WithLogger(logger))
	if !errors.Is(rep.Err(), registry.ErrUnauthorized) {
		t.Fatalf("want ErrUnauthorized:\n%s", rep)
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"json": string(js), "String": rep.String(), "%v": fmt.Sprintf("%v", rep.Err()),
		"%+v": fmt.Sprintf("%+v", rep.Err()), "%#v": fmt.Sprintf("%#v", rep.Err()), "step %+v": fmt.Sprintf("%+v", rep.Steps),
		"slog": logs.String(),
	} {
		if strings.Contains(text, password) {
			t.Errorf("%s leaks the password: %s", name, text)
		}
	}
	if !strings.Contains(logs.String(), "step=auth verdict=failed") {
		t.Errorf("the logger saw no auth step:\n%s", logs.String())
	}
	if !strings.Contains(rep.Failed().Err.Error(), registry.Redacted) {
		t.Errorf("the echoed password should read %s: %v", registry.Redacted, rep.Failed().Err)
	}
}

func TestConnFieldsAndWildcard(t *testing.T) {
	bad := registry.Registry{Name: "x", Kind: registry.KindCustom, Server: "registry.example.com:99999"}
	rep := conntest.Test(context.Background(), bad)
	if diff := cmp.Diff(connWant("fields=failed"), connVerdicts(rep)); diff != "" || !errors.Is(rep.Err(), registry.ErrInvalid) {
		t.Fatalf("invalid port (-want +got):\n%s\n%s", diff, rep)
	}
	var fe *registry.FieldError
	if !errors.As(rep.Err(), &fe) || fe.Field != "url" {
		t.Fatalf("want the FieldError for url in the chain: %v", rep.Err())
	}
	wild := registry.Registry{Name: "acr", Kind: registry.KindCustom, Server: "*.azurecr.io"}
	rep = conntest.Test(context.Background(), wild)
	if diff := cmp.Diff(connWant("fields=warning"), connVerdicts(rep)); diff != "" || !rep.OK() {
		t.Fatalf("wildcard (-want +got):\n%s\n%s", diff, rep)
	}
	if rep.Outcome() != conntest.OutcomeNotTested || !strings.Contains(rep.Untested().Fix, "myregistry.azurecr.io/app:latest") {
		t.Fatalf("a wildcard without an image tested nothing, and says what to enter:\n%s", rep)
	}
	rep = conntest.Test(context.Background(), wild, conntest.WithImage("ghcr.io/a/b:c"))
	if !errors.Is(rep.Err(), registry.ErrInvalid) {
		t.Fatalf("image off the wildcard: %s", rep)
	}
	ecr := registry.Registry{Name: "ecr", Kind: registry.KindECR, Fields: map[string]string{"region": "eu-west-1"}}
	rep = conntest.Test(context.Background(), ecr, conntest.WithImage("123456789012.dkr.ecr.eu-west-1.amazonaws.com.regcred-test.invalid/app:v1"))
	if !errors.Is(rep.Err(), registry.ErrInvalid) {
		t.Fatalf("ECR image off the wildcard: %s", rep)
	}
}

// TestConnTokenKindNeedsFactory: a token kind with the default StaticFactory checks the
// connection, then reports its credentials not tested (not failed: the record may be
// fine), in the user's words; the developer's reason stays in the step's error
// (ErrNoProvider, and the FieldError that names providers.For).
func TestConnTokenKindNeedsFactory(t *testing.T) {
	s := fixture.V2Server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="r"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	r := registry.Registry{Name: "ecr", Kind: registry.KindECR, Server: s.URL, TLS: registry.TLS{Mode: registry.TLSInsecure},
		Fields: map[string]string{"region": "eu-west-1"}}
	rep := conntest.Test(context.Background(), r)
	if diff := cmp.Diff(connWant("fields=ok", "dns=ok", "tcp=ok", "tls=warning", "ping=ok", "auth=skipped"), connVerdicts(rep)); diff != "" {
		t.Fatalf("(-want +got):\n%s\n%s", diff, rep)
	}
	auth := rep.Step(registry.StepAuth)
	if rep.Outcome() != conntest.OutcomeNotTested || rep.Tested() || rep.Untested() != auth {
		t.Fatalf("outcome %q, want not tested:\n%s", rep.Outcome(), rep)
	}
	if !errors.Is(auth.Err, registry.ErrNoProvider) || !errors.Is(auth.Err, registry.ErrInvalid) || !strings.Contains(auth.Err.Error(), "providers.For") {
		t.Fatalf("the step's error should keep the developer's reason (ErrNoProvider, providers.For): %v", auth.Err)
	}
	if auth.Fix == "" || auth.Cause == "" {
		t.Fatalf("no cause and fix for the user: %s", rep)
	}
	assertUserWords(t, rep)
	rep = conntest.Test(context.Background(), r, conntest.WithFactory(func(registry.Registry) (registry.Provider, error) {
		return registry.ProviderFunc(func(context.Context) (registry.Credentials, error) {
			return registry.Credentials{}, fmt.Errorf("token endpoint: %w", registry.ErrUnauthorized)
		}), nil
	}))
	if f := rep.Failed(); f == nil || f.Name != registry.StepAuth || !errors.Is(rep.Err(), registry.ErrUnauthorized) {
		t.Fatalf("a provider's ErrUnauthorized should fail the auth step with it:\n%s", rep)
	}
}

func TestTestAllOrderAndBound(t *testing.T) {
	var inFlight, maxInFlight atomic.Int64
	var regs []registry.Registry
	for i := range 12 {
		s := fixture.V2Server(t, func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			for {
				m := maxInFlight.Load()
				if n <= m || maxInFlight.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
			inFlight.Add(-1)
			w.WriteHeader(http.StatusOK)
		})
		r := connRecord(s.URL, registry.TLSInsecure, nil, "", "")
		r.Name = fmt.Sprintf("reg-%02d", i)
		regs = append(regs, r)
	}
	reps := conntest.TestAll(context.Background(), regs, conntest.WithConcurrency(3))
	if len(reps) != len(regs) {
		t.Fatalf("%d reports for %d registries", len(reps), len(regs))
	}
	for i, rep := range reps {
		if rep.Registry != regs[i].Name || !rep.OK() {
			t.Fatalf("report %d: %s", i, rep)
		}
	}
	if m := maxInFlight.Load(); m > 3 {
		t.Fatalf("%d registries were tested at once; the bound is 3", m)
	}
}

func TestTransportCache(t *testing.T) {
	var c transport.Cache
	r := registry.Registry{ID: "a", Version: 1, Kind: registry.KindCustom, Server: "r.example"}
	t1, err := c.For(r)
	if err != nil {
		t.Fatal(err)
	}
	if t2, _ := c.For(r); t2 != t1 {
		t.Fatal("same ID and version: want the same transport")
	}
	r.Version = 2
	t3, _ := c.For(r)
	if t3 == t1 {
		t.Fatal("a new version must get a new transport")
	}
	if c.Len() != 1 {
		t.Fatalf("Len = %d: the old version should be dropped", c.Len())
	}
	insecure := registry.Registry{Kind: registry.KindCustom, Server: "r.example", TLS: registry.TLS{Mode: registry.TLSInsecure}}
	secure := registry.Registry{Kind: registry.KindCustom, Server: "r.example"}
	ti, _ := c.For(insecure)
	ts, _ := c.For(secure)
	if ti == ts || ti.Mode() != registry.TLSInsecure || ts.Mode() != registry.TLSSecure {
		t.Fatal("records without ID must be keyed by their TLS settings")
	}
	if _, err := c.For(registry.Registry{TLS: registry.TLS{Mode: registry.TLSCustomCA, CABundle: "not pem"}}); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("bad CA bundle: %v", err)
	}
}

// TestReportGolden pins the JSON (the CLI's --json) and the checklist text.
func TestReportGolden(t *testing.T) {
	rep := &conntest.Report{Registry: "team", ID: "r1", Server: "registry.example.com", Duration: 41 * time.Millisecond, RoundTrips: 3,
		Steps: []conntest.Step{
			{Name: registry.StepFields, Verdict: registry.VerdictOK, Duration: 20 * time.Microsecond, Detail: "Custom / self-hosted registry at registry.example.com"},
			{Name: registry.StepDNS, Verdict: registry.VerdictOK, Duration: 2 * time.Millisecond, Detail: "registry.example.com is 192.0.2.7"},
			{Name: registry.StepTCP, Verdict: registry.VerdictOK, Duration: 3 * time.Millisecond, Detail: "connected to 192.0.2.7:443"},
			{Name: registry.StepTLS, Verdict: registry.VerdictOK, Duration: 9 * time.Millisecond, Detail: "TLS 1.3"},
			{Name: registry.StepPing, Verdict: registry.VerdictOK, Duration: 5 * time.Millisecond, Detail: "HTTP 401 with a bearer challenge"},
			{Name: registry.StepAuth, Verdict: registry.VerdictFailed, Duration: 12 * time.Millisecond,
				Cause: "the token service refused the credentials", Fix: "check the username and password",
				Err: &conntest.Error{Kind: registry.ErrUnauthorized, Step: registry.StepAuth, Host: "registry.example.com",
					Cause: "the token service refused the credentials", Fix: "check the username and password"}},
			{Name: registry.StepImage, Verdict: registry.VerdictSkipped, Detail: "an earlier step failed"},
			{Name: registry.StepPush, Verdict: registry.VerdictSkipped, Detail: "an earlier step failed"},
		}}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	fixture.Golden(t, filepath.Join("testdata", "conntest_report.json"), append(js, '\n'))
	fixture.Golden(t, filepath.Join("testdata", "conntest_report.txt"), []byte(rep.String()))
}

// TestConnIPv6 reaches registries on the IPv6 loopback, plain and over TLS (the httptest
// certificate names ::1), through bracketed URLs.
func TestConnIPv6(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		testenv.Unavailable(t, "IPv6 loopback (::1)", "enable IPv6 on the lo interface: "+err.Error())
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != "pw" {
			w.Header().Set("WWW-Authenticate", `Basic realm="v6"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	plain := &httptest.Server{Listener: ln, Config: &http.Server{Handler: handler}}
	plain.Start()
	defer plain.Close()
	ln2, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	secure := &httptest.Server{Listener: ln2, Config: &http.Server{Handler: handler}}
	secure.StartTLS()
	defer secure.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw})
	runConnVerdictCases(t, []connVerdictCase{
		{name: "http", reg: connRecord(plain.URL, registry.TLSInsecure, nil, "u", "pw"),
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=warning", "ping=ok", "auth=ok"), rounds: 2},
		{name: "tls with custom CA", reg: connRecord(fixture.ServerHost(secure), registry.TLSCustomCA, ca, "u", "pw"),
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=ok", "ping=ok", "auth=ok"), rounds: 2},
	})
}
