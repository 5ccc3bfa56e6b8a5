package suggest

import (
	"strings"
	"unicode/utf8"
)

// maxRunes bounds the names compared: a longer input is not a typo of a field name.
const maxRunes = 64

// Nearest returns the candidate name is most likely a typo of: one equal to it but for
// case, else the closest within Limit edits (the first of equals), else "".
func Nearest(name string, candidates []string) string {
	for _, c := range candidates {
		if strings.EqualFold(name, c) {
			return c
		}
	}
	n := utf8.RuneCountInString(name)
	if n > maxRunes {
		return ""
	}
	lower := []rune(strings.ToLower(name))
	best, bestD := "", Limit(n)+1
	for _, c := range candidates {
		if d := Distance(lower, []rune(strings.ToLower(c))); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// Limit is how many edits a name of n runes may be from the name it was meant to be: a
// third of it, and at least one.
func Limit(n int) int { return max(1, n/3) }

// Distance is the optimal string alignment distance of a and b: insertions, deletions,
// substitutions and transpositions of adjacent runes, each one edit. Inputs longer than 64
// runes are maxRunes+1 away from everything.
func Distance(a, b []rune) int {
	if len(a) > maxRunes || len(b) > maxRunes {
		return maxRunes + 1
	}
	var rows [3][maxRunes + 1]int
	prev2, prev, cur := rows[0][:len(b)+1], rows[1][:len(b)+1], rows[2][:len(b)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
