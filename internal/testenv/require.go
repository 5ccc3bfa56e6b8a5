package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Strict reports whether a missing component fails the test instead of skipping it: in CI
// (CI=true) or when REGCRED_REQUIRE_INTEGRATION=1.
func Strict() bool {
	return os.Getenv("CI") == "true" || os.Getenv("REGCRED_REQUIRE_INTEGRATION") == "1"
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
