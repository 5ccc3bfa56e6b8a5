package untrusted_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/regcred/regcred/internal/untrusted"
)

func TestLimitEscapes(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "registry.example.com:5000", "registry.example.com:5000"},
		{"empty", "", ""},
		{"ANSI colour", "401 \x1b[31mUnauthorized\x1b[0m", `401 \x1b[31mUnauthorized\x1b[0m`},
		{"OSC title", "x\x1b]0;pwned\x07y", `x\x1b]0;pwned\ay`},
		{"C1 CSI", "a\u009b2Jb", `a\u009b2Jb`},
		{"newline and tab", "line1\nline2\tx\r", `line1\nline2\tx\r`},
		{"DEL and NUL", "a\x7fb\x00c", `a\x7fb\x00c`},
		{"bidi override", "ok\u202egnp.exe", `ok\u202egnp.exe`},
		{"bidi isolate", "\u2066x\u2069", `\u2066x\u2069`},
		{"zero width", "ad\u200bmin", `ad\u200bmin`},
		{"line separator", "a\u2028b", `a\u2028b`},
		{"invalid UTF-8", "a\xffb\xc3", `a\xffb\xc3`},
		{"letters kept", "Zürich 東京 café", "Zürich 東京 café"},
		{"backslash kept", `C:\temp \x1b`, `C:\temp \x1b`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := untrusted.Text(c.in)
			if got != c.want {
				t.Fatalf("Text(%q) = %q, want %q", c.in, got, c.want)
			}
			if again := untrusted.Text(got); again != got {
				t.Fatalf("not idempotent: %q then %q", got, again)
			}
			for _, r := range got {
				if !untrusted.Safe(r) {
					t.Fatalf("output %q holds unsafe rune %U", got, r)
				}
			}
		})
	}
}

func TestLimitBounds(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"abcdef", 6, "abcdef"},
		{"abcdefg", 6, "abcde…"},
		{"ab\x1bcdef", 4, "ab…"}, // the escape (4 runes) does not fit before the ellipsis
		{"ab\x1bc", 7, `ab\x1bc`},
		{"äöüßéèê", 3, "äö…"},
		{"abc", 0, "…"},
	} {
		if got := untrusted.Limit(c.in, c.max); got != c.want {
			t.Errorf("Limit(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
		if got := untrusted.Limit(c.in, c.max); utf8.RuneCountInString(got) > max(c.max, 1) {
			t.Errorf("Limit(%q, %d) = %q is longer than the bound", c.in, c.max, got)
		}
	}
}

// A huge hostile input costs what its bound costs: Limit stops reading at the bound.
func TestLimitHugeInput(t *testing.T) {
	huge := strings.Repeat("\x1b[2J", 1<<20) // 4 MiB of clear-screen
	allocs := testing.AllocsPerRun(10, func() { untrusted.Text(huge) })
	if allocs > 2 {
		t.Fatalf("%v allocations", allocs)
	}
	got := untrusted.Text(huge)
	if n := utf8.RuneCountInString(got); n > untrusted.DefaultMax {
		t.Fatalf("%d runes", n)
	}
	if !strings.HasSuffix(got, untrusted.Ellipsis) {
		t.Fatalf("cut text does not end in the ellipsis: %q", got)
	}
}

func FuzzLimit(f *testing.F) {
	for _, s := range []string{"", "a\x1b[31m", "\u202e", "\xff\xfe", strings.Repeat("é", 300)} {
		f.Add(s, 16)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max%512 + 1
		if max < 1 {
			max = -max + 1
		}
		got := untrusted.Limit(s, max)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 out: %q", got)
		}
		if n := utf8.RuneCountInString(got); n > max {
			t.Fatalf("%d runes > %d", n, max)
		}
		for _, r := range got {
			if !untrusted.Safe(r) {
				t.Fatalf("unsafe rune %U in %q", r, got)
			}
		}
		if untrusted.Limit(got, max) != got {
			t.Fatalf("not idempotent on %q", got)
		}
	})
}
