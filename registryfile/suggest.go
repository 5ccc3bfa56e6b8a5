package registryfile

import typo "github.com/regcred/regcred/internal/suggest"

// suggest returns the candidate closest to name (case-insensitively) when it is close
// enough to be a typo ("passwrod" -> "password", "secretAccesKey" -> "secretAccessKey"),
// "" when nothing is close: internal/suggest, the one "did you mean" rule, which the API's
// validation uses too.
func suggest(name string, candidates []string) string { return typo.Nearest(name, candidates) }
