package main

import (
	"strings"
	"testing"

	"github.com/regcred/regcred/internal/fixture"
)

// `regcred test` against a hostile registry whose reason phrase and challenge hold
// terminal escapes (clear screen, window title, bidi override): neither the checklist nor
// --json prints them raw.
func TestTestCommandEscapesRemoteText(t *testing.T) {
	// One registry answers GET /v2/ 404 with escapes in its reason phrase, the other 401
	// with a bidi override in its token realm (net/http refuses ESC in header values, not
	// in the reason phrase, nor non-ASCII in values).
	reason := fixture.RawServer(t, "HTTP/1.1 404 \x1b[2J\x1b]0;pwned\x07Gone \u202eetirw\r\nContent-Length: 0\r\n\r\n")
	realm := fixture.RawServer(t, "HTTP/1.1 401 Unauthorized\r\n"+
		"WWW-Authenticate: Bearer realm=\"https://auth.example/\u202egnp.exe\",service=\"\u2066x\u2069\"\r\nContent-Length: 0\r\n\r\n")
	file := writeFile(t, "- {name: \"evil\\e[2J\", type: custom, url: http://"+reason+", tls: {mode: insecure}}\n"+
		"- {name: realm, type: custom, url: http://"+realm+", tls: {mode: insecure}}\n")
	for _, args := range [][]string{{"-f", file, "test"}, {"-f", file, "test", "--json"}} {
		code, out, errOut := runCLI(t, args...)
		if code == exitOK {
			t.Fatalf("%v passed against hostile registries:\n%s", args, out)
		}
		for _, bad := range []string{"\x1b", "\x07", "\u202e", "\u2066", "\u009b"} {
			if strings.Contains(out+errOut, bad) {
				t.Fatalf("%v printed %q raw:\nstdout: %s\nstderr: %s", args, bad, out, errOut)
			}
		}
		for _, want := range []string{`\x1b[2J`, `\u202egnp.exe`} {
			if !strings.Contains(strings.ReplaceAll(out, `\\`, `\`), want) {
				t.Fatalf("%v: the escaped remote text %q is not shown:\n%s", args, want, out)
			}
		}
	}
}
