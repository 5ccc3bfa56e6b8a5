package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Strict reports whether a missing component fails the test instead of skipping it: in CI
// or when REGCRED_REQUIRE_INTEGRATION is set. Either variable counts when it is set to
// anything but "", "false" or "0" (any case, blanks ignored): CI runners set CI=true, CI=1
// or CI=yes, and a value that is not plainly "off" must not quietly skip the real tests.
func Strict() bool { return on(os.Getenv("CI")) || on(os.Getenv("REGCRED_REQUIRE_INTEGRATION")) }

// on reports whether an environment flag is set to something other than off.
func on(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "0":
		return false
	}
	return true
}

// Unavailable skips the test loudly, or fails it under Strict, saying which component is
// missing and how to get it.
func Unavailable(t testing.TB, component, how string) {
	t.Helper()
	msg := "INTEGRATION TEST NOT RUN: " + component + " is not available (" + how + "); run ./test.sh to set it up"
	if Strict() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// LookPath returns the path of a binary, or calls Unavailable naming the Debian package
// that ships it.
func LookPath(t testing.TB, bin, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		Unavailable(t, bin, "apt-get install "+debianPackage)
	}
	return p
}
