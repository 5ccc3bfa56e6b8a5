package main

import (
	"strings"
	"testing"
)

// Issue 19: `regcred validate` printed registry names raw, so a name holding terminal
// escapes (clear screen, window title, a bidi override) reached the terminal. Every name
// is escaped; the escaped text is still shown.
func TestValidateEscapesNames(t *testing.T) {
	file := writeFile(t, "- {name: \"evil\\e[2J\\e]0;pwned\\a\\u202eetirw\", type: public}\n"+
		"- {name: \"csi\\u009b31m\", url: ghcr.io, username: u, password: p}\n")
	code, out, errOut := runCLI(t, "-f", file, "validate")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, bad := range []string{"\x1b", "\x07", "\u202e", "\u009b"} {
		if strings.Contains(out+errOut, bad) {
			t.Fatalf("validate printed %q raw:\n%s", bad, out)
		}
	}
	for _, want := range []string{`evil\x1b[2J`, `\u202eetirw`, `csi\u009b31m`} {
		if !strings.Contains(out, want) {
			t.Errorf("the escaped name %q is not shown:\n%s", want, out)
		}
	}
}
