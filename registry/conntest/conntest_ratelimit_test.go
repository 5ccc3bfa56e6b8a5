package conntest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
)

// hubLike answers like Docker Hub: GET /v2/ 200, and a manifest HEAD with the rate limit
// headers Docker Hub documents (ratelimit-limit, ratelimit-remaining with the window in
// seconds, docker-ratelimit-source); status is the manifest's answer.
func hubLike(t *testing.T, remaining string, status int) string {
	s := fixture.V2Server(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
			w.WriteHeader(http.StatusOK)
		case r.Method == http.MethodHead && strings.HasSuffix(r.URL.Path, "/manifests/latest"):
			w.Header().Set("Ratelimit-Limit", "100;w=21600")
			w.Header().Set("Ratelimit-Remaining", remaining+";w=21600")
			w.Header().Set("Docker-Ratelimit-Source", "192.0.2.1")
			w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("a", 64))
			if status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "60")
			}
			w.WriteHeader(status)
		default:
			http.NotFound(w, r)
		}
	})
	return fixture.ServerHost(s)
}

func TestConnRateLimit(t *testing.T) {
	ctx := context.Background()
	rec := func(host string) registry.Registry {
		return registry.Registry{Name: "hub-like", Kind: registry.KindCustom, Server: "http://" + host, TLS: registry.TLS{Mode: registry.TLSInsecure}}
	}

	t.Run("plenty left", func(t *testing.T) {
		host := hubLike(t, "76", http.StatusOK)
		rep := conntest.Test(ctx, rec(host), conntest.WithImage(host+"/library/alpine:latest"))
		want := &conntest.RateLimit{Limit: 100, Remaining: 76, Window: 6 * time.Hour, Source: "192.0.2.1"}
		if diff := cmp.Diff(want, rep.RateLimit); diff != "" {
			t.Fatalf("rate limit (-want +got):\n%s", diff)
		}
		s := rep.Step(registry.StepImage)
		if s.Verdict != registry.VerdictOK || !strings.Contains(s.Detail, "76 of 100 pulls left in the 6h window") {
			t.Fatalf("image step: %s %q", s.Verdict, s.Detail)
		}
		js, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(js), `"rateLimit":{"limit":100,"remaining":76,"windowSeconds":21600,"source":"192.0.2.1"}`) {
			t.Fatalf("JSON: %s", js)
		}
	})
	t.Run("almost used up: warning", func(t *testing.T) {
		host := hubLike(t, "3", http.StatusOK)
		rep := conntest.Test(ctx, rec(host), conntest.WithImage(host+"/library/alpine:latest"))
		s := rep.Step(registry.StepImage)
		if !rep.OK() || s.Verdict != registry.VerdictWarning || !strings.Contains(s.Cause, "only 3 of 100 pulls left") {
			t.Fatalf("image step: %s %q %q", s.Verdict, s.Detail, s.Cause)
		}
	})
	t.Run("used up: 429", func(t *testing.T) {
		host := hubLike(t, "0", http.StatusTooManyRequests)
		rep := conntest.Test(ctx, rec(host), conntest.WithImage(host+"/library/alpine:latest"))
		s := rep.Step(registry.StepImage)
		if s.Verdict != registry.VerdictFailed || !errors.Is(s.Err, registry.ErrRateLimited) {
			t.Fatalf("image step: %s %v", s.Verdict, s.Err)
		}
		if rep.RateLimit == nil || rep.RateLimit.Remaining != 0 {
			t.Fatalf("rate limit %+v", rep.RateLimit)
		}
	})
	t.Run("a registry without the headers", func(t *testing.T) {
		s := fixture.V2Server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
		host := fixture.ServerHost(s)
		rep := conntest.Test(ctx, rec(host), conntest.WithImage(host+"/a/b:latest"))
		if rep.RateLimit != nil {
			t.Fatalf("rate limit %+v from a registry that sent none", rep.RateLimit)
		}
	})
}
