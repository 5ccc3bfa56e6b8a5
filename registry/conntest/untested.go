package conntest

import (
	"strings"

	"github.com/regcred/regcred/registry"
)

// A test that could not reach the registry with the record's credentials tested nothing,
// and says so in the user's words (Report.Outcome is OutcomeNotTested): a wildcard server
// without an image, a token registry whose token source this process cannot reach.

// noProvider is the auth step of a record whose credentials this process cannot make
// (registry.ErrNoProvider): skipped, with err kept for the developer and the cause and fix
// in the user's words.
func (t *tester) noProvider(err error) outcome {
	cause := "the credentials of " + t.r.Kind.Label() + " registries are tokens from their cloud's token service, which this installation is not set up to ask"
	fix := "ask the administrator to enable " + t.r.Kind.Label() + " registries; the connection itself was checked above"
	if t.r.Kind == registry.KindKubernetes {
		cause = "the token comes from the ServiceAccount " + t.r.Fields["serviceAccount"] + " in a Kubernetes cluster this page is not connected to"
		fix = "connect the cluster that holds the ServiceAccount to test the token; the connection itself was checked above"
	}
	t.stop = "not tested: no credentials to try"
	return outcome{verdict: registry.VerdictSkipped, detail: t.stop, cause: cause, fix: fix, skipErr: err}
}

// wildcardExample is an image on a host the wildcard covers, to show the user what to
// enter: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:latest".
func wildcardExample(pattern string) string {
	first := "myregistry"
	if strings.Contains(pattern, ".dkr.ecr.") {
		first = "123456789012"
	}
	return strings.ReplaceAll(strings.Replace(pattern, "*", first, 1), "*", "example") + "/app:latest"
}
