package conntest

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/transport"
)

func TestParseAuthChallenge(t *testing.T) {
	tests := []struct {
		in         string
		wantScheme string
		want       map[string]string
	}{
		{`Basic realm="regcred-test"`, "Basic", map[string]string{"realm": "regcred-test"}},
		{`Bearer realm="https://auth.docker.io/token",service="registry.docker.io"`, "Bearer",
			map[string]string{"realm": "https://auth.docker.io/token", "service": "registry.docker.io"}},
		{`Bearer realm="https://ghcr.io/token", service="ghcr.io", scope="repository:a/b:pull"`, "Bearer",
			map[string]string{"realm": "https://ghcr.io/token", "service": "ghcr.io", "scope": "repository:a/b:pull"}},
		{`Bearer realm="https://x/token",error="insufficient_scope",scope="repository:p/a:pull"`, "Bearer",
			map[string]string{"realm": "https://x/token", "error": "insufficient_scope", "scope": "repository:p/a:pull"}},
		{`Bearer Realm=https://x/token, Service=svc`, "Bearer", map[string]string{"realm": "https://x/token", "service": "svc"}},
		{`Basic realm="a \"quoted\" realm"`, "Basic", map[string]string{"realm": `a "quoted" realm`}},
		{`Bearer realm="unterminated`, "Bearer", map[string]string{"realm": "unterminated"}},
		{`Negotiate`, "Negotiate", map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			s, p := transport.ParseAuthChallenge(tc.in)
			if s != tc.wantScheme {
				t.Errorf("scheme = %q, want %q", s, tc.wantScheme)
			}
			if diff := cmp.Diff(tc.want, p); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPickAuthChallengePrefersBearer(t *testing.T) {
	s, p := transport.PickAuthChallenge([]string{`Negotiate`, `Basic realm="b"`, `Bearer realm="https://t/token"`})
	if s != "Bearer" || p["realm"] != "https://t/token" {
		t.Fatalf("got %q %v", s, p)
	}
	s, _ = transport.PickAuthChallenge([]string{`Negotiate`, `Basic realm="b"`})
	if s != "Basic" {
		t.Fatalf("got %q, want Basic", s)
	}
	if s, _ := transport.PickAuthChallenge(nil); s != "" {
		t.Fatalf("got %q for no header", s)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{" 7 ", 7 * time.Second},
		{"-3", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tc := range tests {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestDiagnosisStatus(t *testing.T) {
	resp := func(code int, hdr ...string) *http.Response {
		h := http.Header{}
		for i := 0; i+1 < len(hdr); i += 2 {
			h.Add(hdr[i], hdr[i+1])
		}
		return &http.Response{StatusCode: code, Status: http.StatusText(code), Header: h}
	}
	tests := []struct {
		name, host string
		resp       *http.Response
		kind       error
		code       string
		inFix      string
		retry      time.Duration
	}{
		{"429 with retry-after", "registry.example.com", resp(429, "Retry-After", "30"), registry.ErrRateLimited, "rate_limited", "30s", 30 * time.Second},
		{"429 on docker hub", "index.docker.io", resp(429), registry.ErrRateLimited, "rate_limited", "authenticated", 0},
		{"401", "r.example", resp(401), registry.ErrUnauthorized, "unauthorized", "username and password", 0},
		{"403 on ghcr hints read:packages", "ghcr.io", resp(403), registry.ErrForbidden, "forbidden", "read:packages", 0},
		{"403 elsewhere", "r.example", resp(403), registry.ErrForbidden, "forbidden", "grant the account", 0},
		{"404", "r.example", resp(404), registry.ErrNotFound, "not_found", "name and tag", 0},
		{"503", "r.example", resp(503), registry.ErrUnavailable, "unavailable", "try again later", 0},
		{"418", "r.example", resp(418), registry.ErrNotRegistry, "not_a_registry", "API host", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ce := diagnosis{host: tc.host}.status(registry.StepImage, tc.resp, "the image")
			if !errors.Is(ce, tc.kind) || ce.Code() != tc.code || ce.RetryAfter != tc.retry {
				t.Fatalf("got kind %v code %s retry %v", ce.Kind, ce.Code(), ce.RetryAfter)
			}
			if !strings.Contains(ce.Fix, tc.inFix) {
				t.Fatalf("fix %q lacks %q", ce.Fix, tc.inFix)
			}
		})
	}
}

func TestAccessDenied(t *testing.T) {
	resp := func(code int, challenge string) *http.Response {
		h := http.Header{}
		if challenge != "" {
			h.Set("WWW-Authenticate", challenge)
		}
		return &http.Response{StatusCode: code, Status: http.StatusText(code), Header: h}
	}
	user := registry.Credentials{Username: "octocat", Password: "ghp_x"}
	tests := []struct {
		name        string
		host        string
		creds       registry.Credentials
		resp        *http.Response
		action      string
		scope       string
		kind        error
		inCause     string
		inFix       string
		notInFixAll string
	}{
		{"ghcr 403 pull", "ghcr.io", user, resp(403, ""), "pull from o/app", "read:packages", registry.ErrForbidden, "may not pull", "read:packages", ""},
		{"ghcr 403 push", "ghcr.io", user, resp(403, ""), "push to o/app", "write:packages", registry.ErrForbidden, "may not push", "write:packages", ""},
		{"distribution insufficient_scope", "r.example", user,
			resp(401, `Bearer realm="https://a/token",service="s",scope="repository:p/a:pull",error="insufficient_scope"`),
			"pull from p/a", "read:packages", registry.ErrForbidden, "insufficient_scope", "grant the account", "read:packages"},
		{"anonymous 401", "r.example", registry.Credentials{}, resp(401, `Bearer realm="https://a/token"`), "pull from p/a", "read:packages",
			registry.ErrUnauthorized, "anonymous", "save credentials", ""},
		{"404 untouched", "ghcr.io", user, resp(404, ""), "pull from o/app", "read:packages", registry.ErrNotFound, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tt := &tester{host: tc.host, creds: tc.creds}
			ce := diagnosis{host: tc.host}.status(registry.StepImage, tc.resp, "the image")
			kind, cause, fix := tt.accessDenied(ce, tc.resp, tc.action, tc.scope)
			if kind != tc.kind || !strings.Contains(cause, tc.inCause) || !strings.Contains(fix, tc.inFix) {
				t.Fatalf("got %v, %q, %q", kind, cause, fix)
			}
			if tc.notInFixAll != "" && strings.Contains(fix, tc.notInFixAll) {
				t.Fatalf("fix %q should not mention %q off GHCR", fix, tc.notInFixAll)
			}
		})
	}
}
