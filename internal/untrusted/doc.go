// Package untrusted makes text that someone else controls safe to show: a registry's
// reason phrase, a certificate subject, a token realm, a daemon's error message, a name a
// user typed. Such text may be endless, and may hold terminal escape sequences (ESC, CSI,
// OSC), other C0 and C1 controls, or Unicode bidi overrides that reorder what a reader sees.
//
// Rules:
//   - Text bounds a string to a number of runes (DefaultMax unless told) and escapes every
//     rune that is not safe on a terminal or a page: C0 controls (newline and tab
//     included, since the texts are one-line fields), DEL, C1 controls, Unicode format
//     characters (bidi embeddings, overrides and isolates, zero-width characters, BOM),
//     line and paragraph separators, private-use and unassigned code points, and invalid
//     UTF-8. An escaped rune is written as Go writes it in a quoted string (\x1b, \u202e).
//   - A cut string ends in "…" (U+2026), so a reader sees it was cut.
//   - Text is idempotent: Text(Text(s)) == Text(s) for the same bound. A backslash is kept
//     as it is, so already escaped text passes unchanged.
//   - Text reads at most about 4 bytes per rune of the bound plus one escape's worth past
//     it: a gigabyte input costs what its first few hundred bytes cost.
//
// Apply it where remote or user text enters a message that is shown (an error's Cause, a
// report's detail), not to whole messages built from safe parts.
package untrusted
