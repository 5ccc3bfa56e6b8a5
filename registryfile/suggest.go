package registryfile

import (
	"strings"
)

// suggest returns the candidate closest to name (case-insensitively) when it is close
// enough to be a typo: an optimal-string-alignment distance (insertions, deletions,
// substitutions, adjacent transpositions) of at most 1 for short names and at most a
// third of the name's length for longer ones ("passwrod" -> "password",
// "secretAccesKey" -> "secretAccessKey"). "" when nothing is close.
//
// Hand-written rather than a dependency: the candidates are a dozen field names of at most
// 20 characters, and the one library in common use (agnivade/levenshtein) lacks
// transpositions, the commonest typo.
func suggest(name string, candidates []string) string {
	n := strings.ToLower(name)
	limit := max(1, len([]rune(n))/3)
	best, bestD := "", limit+1
	for _, c := range candidates {
		if d := osaDistance(n, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// osaDistance is the optimal string alignment distance between a and b (runes).
func osaDistance(a, b string) int {
	s, t := []rune(a), []rune(b)
	if len(s) > 64 || len(t) > 64 { // names only; a long key is never a typo of a field
		return 1 << 30
	}
	d := make([][]int, len(s)+1)
	for i := range d {
		d[i] = make([]int, len(t)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(s); i++ {
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(s)][len(t)]
}
