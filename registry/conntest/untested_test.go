package conntest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/providers"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
)

// goNames finds Go API names in a text meant for a user ("WithImage", "providers.For").
var goNames = regexp.MustCompile(`\bWith[A-Z]\w*|\bproviders\.\w+|\([A-Z]\w+\)`)

// assertUserWords fails when a text the user reads names Go API.
func assertUserWords(t *testing.T, rep *conntest.Report) {
	t.Helper()
	for _, s := range rep.Steps {
		for _, text := range []string{s.Detail, s.Cause, s.Fix} {
			if m := goNames.FindString(text); m != "" {
				t.Errorf("step %s speaks Go (%s): %q", s.Name, m, text)
			}
		}
	}
}

// Amazon ECR's server is a wildcard: a test without an image has no host to reach, and
// every network step is skipped. It read "OK" (with a warning) and told the user to
// "give an image on a concrete host (WithImage)". It is "not tested", in the report's
// String, JSON and Outcome, with what the user can enter.
func TestConnWildcardIsNotTested(t *testing.T) {
	ecr := registry.Registry{Name: "ecr", Kind: registry.KindECR,
		Fields: map[string]string{"region": "eu-west-1", "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}
	rep := conntest.Test(context.Background(), ecr)
	if rep.Outcome() != conntest.OutcomeNotTested || rep.Tested() {
		t.Fatalf("outcome %q, want %q:\n%s", rep.Outcome(), conntest.OutcomeNotTested, rep)
	}
	if !strings.Contains(rep.String(), ": NOT TESTED\n") {
		t.Errorf("String does not say NOT TESTED:\n%s", rep)
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"outcome":"not tested"`) {
		t.Errorf("JSON has no outcome: %s", js)
	}
	u := rep.Untested()
	if u == nil || !strings.Contains(u.Fix, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:latest") {
		t.Fatalf("the fix should show an image to enter: %+v", u)
	}
	assertUserWords(t, rep)
}

// The Kubernetes token kind without a cluster client (providers' factory answers
// registry.ErrNoProvider) checks the connection and leaves the credentials not tested, saying which
// ServiceAccount's cluster the page needs.
func TestConnKubernetesTokenWithoutClusterIsNotTested(t *testing.T) {
	srv := fixture.V2Server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="registry"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	r := registry.Registry{Name: "k", Kind: registry.KindKubernetes, Server: srv.URL, TLS: registry.TLS{Mode: registry.TLSInsecure},
		Fields: map[string]string{"serviceAccount": "payload/pull-sa"}}
	rep := conntest.Test(context.Background(), r, conntest.WithFactory(providers.Factory())) // no providers.WithKubeClient
	if rep.Outcome() != conntest.OutcomeNotTested || rep.Step(registry.StepPing).Verdict != registry.VerdictOK {
		t.Fatalf("outcome %q:\n%s", rep.Outcome(), rep)
	}
	if u := rep.Untested(); u == nil || u.Name != registry.StepAuth || !strings.Contains(u.Cause, "payload/pull-sa") {
		t.Fatalf("the auth step should say whose token could not be had: %+v", u)
	}
	assertUserWords(t, rep)
}
