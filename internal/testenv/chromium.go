package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Chromium returns the path of a headless-capable Chromium (Debian's chromium package, or
// $REGCRED_CHROMIUM), or calls Unavailable. Drive it through the DevTools protocol (the
// console's tests use chromedp) with the flags of ChromiumFlags.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("REGCRED_CHROMIUM"); p != "" {
		return p
	}
	for _, bin := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(bin); err == nil {
			return p
		}
	}
	Unavailable(t, "chromium", "apt-get install chromium")
	return ""
}

// ChromiumFlags are the command-line flags of a test browser, as name and value (a value
// of "" is a bare switch): headless, no GPU, a fresh profile in userDataDir, and nothing
// that reaches the network by itself (first-run pages, component updates, sync,
// background fetches). As root, Chromium refuses to start without --no-sandbox, so it is
// added then.
func ChromiumFlags(userDataDir string) [][2]string {
	flags := [][2]string{
		{"headless", ""},
		{"disable-gpu", ""},
		{"no-first-run", ""},
		{"no-default-browser-check", ""},
		{"disable-background-networking", ""},
		{"disable-component-update", ""},
		{"disable-sync", ""},
		{"disable-extensions", ""},
		{"disable-dev-shm-usage", ""},
		{"mute-audio", ""},
		{"user-data-dir", userDataDir},
	}
	if os.Geteuid() == 0 {
		flags = append(flags, [2]string{"no-sandbox", ""})
	}
	return flags
}
