package untrusted

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// DefaultMax is the bound of Text in runes: enough for a host name, a certificate subject
// or a registry's error message, short enough for one line of a report.
const DefaultMax = 256

// Ellipsis ends a text that was cut.
const Ellipsis = "…"

// Text returns s bounded to DefaultMax runes with every unsafe rune escaped.
func Text(s string) string { return Limit(s, DefaultMax) }

// Limit returns s bounded to max runes (counting an escape as the runes it prints) with
// every unsafe rune escaped; a cut text is max-1 runes of s followed by Ellipsis. A max
// below 1 means 1.
func Limit(s string, max int) string {
	if max < 1 {
		max = 1
	}
	if fast(s, max) {
		return s
	}
	out := make([]byte, 0, min(len(s), 4*max)+len(Ellipsis))
	n, cut := 0, -1 // runes written; len(out) when n last was <= max-1
	for i := 0; i < len(s); {
		if n <= max-1 {
			cut = len(out)
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		before := len(out)
		switch {
		case r == utf8.RuneError && size == 1:
			const hex = "0123456789abcdef"
			out = append(out, '\\', 'x', hex[s[i]>>4], hex[s[i]&15])
			n += 4
		case Safe(r):
			out = append(out, s[i:i+size]...)
			n++
		default:
			out = strconv.AppendQuoteRuneToASCII(out, r) // '\x1b', '\u202e', '\n'
			copy(out[before:], out[before+1:len(out)-1])
			out = out[:len(out)-2]
			n += len(out) - before
		}
		if n > max {
			return string(append(out[:cut], Ellipsis...))
		}
		i += size
	}
	return string(out)
}

// Safe reports whether r may be shown as it is: a graphic rune (letters, marks, numbers,
// punctuation, symbols, the ASCII space) that is not a format character, a private-use
// code point or a separator other than the space.
func Safe(r rune) bool {
	if r < 0x80 {
		return r >= 0x20 && r < 0x7f
	}
	return unicode.IsGraphic(r) && !unicode.Is(unicode.Cf, r) && !unicode.Is(unicode.Co, r) &&
		r != '\u2028' && r != '\u2029' && r != '\u00a0' && !unicode.Is(unicode.Zs, r)
}

// fast reports whether s is short, printable ASCII, the common case, so Limit can return
// it without copying.
func fast(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}
