package conntest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
)

// These tests run the connection test against real distribution registries (Debian's
// docker-registry) started by internal/testenv, one per configuration a verdict needs.

// connRTCounter is a counting RoundTripper installed with WithTransportWrapper.
type connRTCounter struct {
	inner http.RoundTripper
	n     *atomic.Int64
}

func (c connRTCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.inner.RoundTrip(r)
}

func connCounting(n *atomic.Int64) conntest.Option {
	return conntest.WithTransportWrapper(func(rt http.RoundTripper) http.RoundTripper { return connRTCounter{rt, n} })
}

func connRecord(server string, mode registry.TLSMode, ca []byte, user, pass string) registry.Registry {
	r := registry.Registry{ID: "id-" + server, Name: "test " + server, Kind: registry.KindCustom, Server: server,
		TLS: registry.TLS{Mode: mode, CABundle: string(ca)}}
	if user != "" {
		r.Fields = map[string]string{"username": user, "password": pass}
	}
	return r
}

// connVerdicts compresses a report to "step=verdict" for diffs.
func connVerdicts(rep *conntest.Report) []string {
	var out []string
	for _, s := range rep.Steps {
		out = append(out, string(s.Name)+"="+string(s.Verdict))
	}
	return out
}

func connWant(pairs ...string) []string {
	all := map[string]string{}
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		all[k] = v
	}
	var out []string
	for _, s := range registry.Steps() {
		v, ok := all[string(s)]
		if !ok {
			v = "skipped"
		}
		out = append(out, string(s)+"="+v)
	}
	return out
}

type connVerdictCase struct {
	name    string
	reg     registry.Registry
	opts    []conntest.Option
	want    []string // step=verdict, missing steps are "skipped"
	kind    error    // errors.Is(report.Err(), kind); nil: the report passes
	inCause string   // a phrase the failed (or first warning) step's cause must contain
	rounds  int64    // HTTP round trips; -1: not checked
}

func runConnVerdictCases(t *testing.T, cases []connVerdictCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int64
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rep := conntest.Test(ctx, tc.reg, append([]conntest.Option{connCounting(&n), conntest.WithTimeout(10 * time.Second)}, tc.opts...)...)
			if diff := cmp.Diff(tc.want, connVerdicts(rep)); diff != "" {
				t.Fatalf("verdicts (-want +got):\n%s\n%s", diff, rep)
			}
			err := rep.Err()
			switch {
			case tc.kind == nil && err != nil:
				t.Fatalf("Err() = %v, want nil", err)
			case tc.kind != nil && !errors.Is(err, tc.kind):
				t.Fatalf("Err() = %v, want errors.Is %v\n%s", err, tc.kind, rep)
			}
			if tc.kind != nil {
				var ce *conntest.Error
				if !errors.As(err, &ce) || ce.Cause == "" || ce.Fix == "" {
					t.Fatalf("Err() = %#v: want a *ConnError with cause and fix", err)
				}
			}
			if tc.inCause != "" {
				step := rep.Failed()
				if step == nil && len(rep.Warnings()) > 0 {
					step = &rep.Warnings()[0]
				}
				if step == nil || !strings.Contains(step.Cause+" "+step.Fix, tc.inCause) {
					t.Fatalf("cause/fix lacks %q:\n%s", tc.inCause, rep)
				}
			}
			if tc.rounds >= 0 {
				if got := n.Load(); got != tc.rounds {
					t.Fatalf("round trips = %d, want %d\n%s", got, tc.rounds, rep)
				}
			}
			if int64(rep.RoundTrips) != n.Load() {
				t.Fatalf("Report.RoundTrips = %d, counting transport saw %d", rep.RoundTrips, n.Load())
			}
		})
	}
}

func TestConnPlainHTTP(t *testing.T) {
	s := testenv.StartRegistry(t, testenv.WithBasicAuth("alice", "s3cret"))
	img := s.Push(t, "team/app:v1")
	runConnVerdictCases(t, []connVerdictCase{
		{name: "http URL in secure mode", reg: connRecord("http://"+s.Host, registry.TLSSecure, nil, "alice", "s3cret"),
			want: connWant("fields=failed"), kind: registry.ErrHTTPInSecureMode, inCause: "insecure TLS mode", rounds: 0},
		{name: "no scheme, secure mode, server speaks http", reg: connRecord(s.Host, registry.TLSSecure, nil, "alice", "s3cret"),
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=failed"), kind: registry.ErrHTTPInSecureMode, inCause: "plain HTTP", rounds: 0},
		{name: "http URL, insecure mode", reg: connRecord("http://"+s.Host, registry.TLSInsecure, nil, "alice", "s3cret"),
			opts: []conntest.Option{conntest.WithImage(img)},
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=warning", "ping=ok", "auth=ok", "image=ok"), inCause: "unencrypted", rounds: 3},
		{name: "no scheme, insecure mode falls back to http", reg: connRecord(s.Host, registry.TLSInsecure, nil, "alice", "s3cret"),
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=warning", "ping=ok", "auth=ok"), inCause: "unencrypted", rounds: 2},
	})
}

func TestConnTLSModes(t *testing.T) {
	s := testenv.StartRegistry(t, testenv.WithTLS(), testenv.WithBasicAuth("alice", "s3cret"))
	img := s.Push(t, "team/app:v1")
	other := testenv.NewCA(t)
	runConnVerdictCases(t, []connVerdictCase{
		{name: "secure refuses the test CA", reg: connRecord(s.Host, registry.TLSSecure, nil, "alice", "s3cret"),
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=failed"), kind: registry.ErrTLSUnknownAuthority, inCause: "custom CA mode", rounds: 0},
		{name: "custom CA accepts", reg: connRecord("https://"+s.Host, registry.TLSCustomCA, s.CAPEM, "alice", "s3cret"),
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=ok", "ping=ok", "auth=ok"), rounds: 2},
		{name: "custom CA with image", reg: connRecord(s.Host, registry.TLSCustomCA, s.CAPEM, "alice", "s3cret"),
			opts: []conntest.Option{conntest.WithImage(img)},
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=ok", "ping=ok", "auth=ok", "image=ok"), rounds: 3},
		{name: "custom CA bundle of another CA", reg: connRecord(s.Host, registry.TLSCustomCA, other.CertPEM, "alice", "s3cret"),
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=failed"), kind: registry.ErrTLSUnknownAuthority, inCause: "CA bundle saved", rounds: 0},
		{name: "insecure accepts with a warning", reg: connRecord(s.Host, registry.TLSInsecure, nil, "alice", "s3cret"),
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=warning", "ping=ok", "auth=ok"), inCause: "does not trust", rounds: 2},
		{name: "http URL to a TLS port", reg: connRecord("http://"+s.Host, registry.TLSInsecure, nil, "alice", "s3cret"),
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=warning", "ping=failed"), kind: registry.ErrNotRegistry, inCause: "https://" + s.Host, rounds: 1},
		{name: "image missing", reg: connRecord(s.Host, registry.TLSCustomCA, s.CAPEM, "alice", "s3cret"),
			opts: []conntest.Option{conntest.WithImage("team/app:nope")},
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=ok", "ping=ok", "auth=ok", "image=failed"), kind: registry.ErrNotFound, inCause: "does not exist", rounds: 3},
		{name: "repository missing", reg: connRecord(s.Host, registry.TLSCustomCA, s.CAPEM, "alice", "s3cret"),
			opts: []conntest.Option{conntest.WithImage(s.Host + "/nobody/here")},
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=ok", "ping=ok", "auth=ok", "image=failed"), kind: registry.ErrNotFound, rounds: 3},
		{name: "image on another host", reg: connRecord(s.Host, registry.TLSCustomCA, s.CAPEM, "alice", "s3cret"),
			opts: []conntest.Option{conntest.WithImage("ghcr.io/team/app:v1")},
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=ok", "ping=ok", "auth=ok", "image=failed"), kind: registry.ErrInvalid, inCause: "never sent elsewhere", rounds: 2},
		{name: "push allowed", reg: connRecord(s.Host, registry.TLSCustomCA, s.CAPEM, "alice", "s3cret"),
			opts: []conntest.Option{conntest.WithPush("team/new")},
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=ok", "ping=ok", "auth=ok", "push=ok"), rounds: 4},
	})
}

func TestConnBadCertificates(t *testing.T) {
	expired := testenv.StartRegistry(t, testenv.WithExpiredCert())
	wrong := testenv.StartRegistry(t, testenv.WithWrongNameCert())
	runConnVerdictCases(t, []connVerdictCase{
		{name: "expired", reg: connRecord(expired.Host, registry.TLSCustomCA, expired.CAPEM, "", ""),
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=failed"), kind: registry.ErrTLSExpired, inCause: "expired on", rounds: 0},
		{name: "wrong name", reg: connRecord(wrong.Host, registry.TLSCustomCA, wrong.CAPEM, "", ""),
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=failed"), kind: registry.ErrTLSNameMismatch, inCause: "other.example", rounds: 0},
		{name: "expired, insecure mode warns", reg: connRecord(expired.Host, registry.TLSInsecure, expired.CAPEM, "", ""),
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=warning", "ping=ok", "auth=ok"), inCause: "expired", rounds: 1},
	})
}

func TestConnBasicAuth(t *testing.T) {
	s := testenv.StartRegistry(t, testenv.WithBasicAuth("alice", "s3cret"))
	img := s.Push(t, "team/app")
	runConnVerdictCases(t, []connVerdictCase{
		{name: "good", reg: connRecord("http://"+s.Host, registry.TLSInsecure, nil, "alice", "s3cret"),
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=warning", "ping=ok", "auth=ok"), rounds: 2},
		{name: "good with image", reg: connRecord("http://"+s.Host, registry.TLSInsecure, nil, "alice", "s3cret"),
			opts: []conntest.Option{conntest.WithImage(img)},
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=warning", "ping=ok", "auth=ok", "image=ok"), rounds: 3},
		{name: "bad password", reg: connRecord("http://"+s.Host, registry.TLSInsecure, nil, "alice", "wrong-password"),
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=warning", "ping=ok", "auth=failed"), kind: registry.ErrUnauthorized, inCause: "refused the credentials as alice", rounds: 2},
		{name: "no credentials saved", reg: connRecord("http://"+s.Host, registry.TLSInsecure, nil, "", ""),
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=warning", "ping=ok", "auth=failed"), kind: registry.ErrUnauthorized, inCause: "none are saved", rounds: 1},
		{name: "provider given", reg: connRecord("http://"+s.Host, registry.TLSInsecure, nil, "", ""),
			opts: []conntest.Option{conntest.WithProvider(registry.Static(registry.Credentials{Username: "alice", Password: "s3cret"}))},
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=warning", "ping=ok", "auth=ok"), rounds: 2},
		{name: "expired provider credentials", reg: connRecord("http://"+s.Host, registry.TLSInsecure, nil, "", ""),
			opts: []conntest.Option{conntest.WithProvider(registry.Static(registry.Credentials{Username: "alice", Password: "s3cret", ExpiresAt: time.Now().Add(-time.Minute)}))},
			want: connWant("fields=ok", "dns=ok", "tcp=ok", "tls=warning", "ping=ok", "auth=failed"), kind: registry.ErrExpired, rounds: 1},
	})
}

func TestConnTokenAuth(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[useTLS], func(t *testing.T) {
			opts := []testenv.RegistryOption{
				testenv.WithTokenAuth("bob", "bob-pw", testenv.Grant{Repo: "public/*", Actions: []string{"pull"}}),
				testenv.WithTokenAuth("carol", "carol-pw"),
			}
			if useTLS {
				opts = append(opts, testenv.WithTLS())
			}
			s := testenv.StartRegistry(t, opts...)
			pub := s.Push(t, "public/app:v1")
			priv := s.Push(t, "private/app:v1")
			reg := func(user, pass string) registry.Registry {
				if useTLS {
					return connRecord(s.Host, registry.TLSCustomCA, s.CAPEM, user, pass)
				}
				return connRecord("http://"+s.Host, registry.TLSInsecure, nil, user, pass)
			}
			tlsVerdict := map[bool]string{false: "tls=warning", true: "tls=ok"}[useTLS]
			// The harness's token service listens on localhost:PORT, another host than the
			// registry's 127.0.0.1:PORT: allowed (both loopback), reported as a warning.
			base := []string{"fields=ok", "dns=ok", "tcp=ok", tlsVerdict, "ping=warning"}
			with := func(extra ...string) []string { return connWant(append(append([]string{}, base...), extra...)...) }
			runConnVerdictCases(t, []connVerdictCase{
				{name: "good", reg: reg("bob", "bob-pw"), want: with("auth=ok"), rounds: 3},
				{name: "good with image", reg: reg("bob", "bob-pw"), opts: []conntest.Option{conntest.WithImage(pub)},
					want: with("auth=ok", "image=ok"), rounds: 4},
				{name: "bad password", reg: reg("bob", "nope-pw"), want: with("auth=failed"), kind: registry.ErrUnauthorized,
					inCause: "refused the credentials", rounds: 2},
				{name: "repository the user may not read", reg: reg("bob", "bob-pw"), opts: []conntest.Option{conntest.WithImage(priv)},
					want: with("auth=ok", "image=failed"), kind: registry.ErrForbidden, inCause: "may not pull from private/app", rounds: -1},
				{name: "image missing", reg: reg("carol", "carol-pw"), opts: []conntest.Option{conntest.WithImage("private/app:nope")},
					want: with("auth=ok", "image=failed"), kind: registry.ErrNotFound, rounds: 4},
				{name: "push allowed", reg: reg("carol", "carol-pw"), opts: []conntest.Option{conntest.WithPush("private/new")},
					want: with("auth=ok", "push=ok"), rounds: 5},
				{name: "push refused", reg: reg("bob", "bob-pw"), opts: []conntest.Option{conntest.WithImage(pub), conntest.WithPush("public/app")},
					want: with("auth=ok", "image=ok", "push=failed"), kind: registry.ErrForbidden, inCause: "may not push", rounds: -1},
				{name: "registry token", reg: reg("", ""), opts: []conntest.Option{conntest.WithProvider(registry.Static(registry.Credentials{RegistryToken: "not-a-jwt"}))},
					want: with("auth=failed"), kind: registry.ErrUnauthorized, inCause: "refused the bearer token", rounds: -1},
			})
		})
	}
}

// TestConnTestAllReal tests several real registries at once and keeps the order.
func TestConnTestAllReal(t *testing.T) {
	a := testenv.StartRegistry(t, testenv.WithBasicAuth("alice", "s3cret"))
	b := testenv.StartRegistry(t, testenv.WithTLS())
	regs := []registry.Registry{
		connRecord("http://"+a.Host, registry.TLSInsecure, nil, "alice", "s3cret"),
		connRecord(b.Host, registry.TLSSecure, nil, "", ""),
		connRecord("http://"+a.Host, registry.TLSInsecure, nil, "alice", "bad-pass"),
	}
	reps := conntest.TestAll(context.Background(), regs, conntest.WithConcurrency(2))
	var got []string
	for _, r := range reps {
		s := "ok"
		if f := r.Failed(); f != nil {
			s = string(f.Name) + ":" + f.Err.(*conntest.Error).Code()
		}
		got = append(got, r.Registry+" "+s)
	}
	wantOut := []string{regs[0].Name + " ok", regs[1].Name + " tls:tls_unknown_authority", regs[2].Name + " auth:unauthorized"}
	if diff := cmp.Diff(wantOut, got); diff != "" {
		t.Fatalf("TestAll (-want +got):\n%s", diff)
	}
}
