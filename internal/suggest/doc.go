// Package suggest finds the "did you mean" for a mistyped name: the one rule the API's
// validation (registry.Registry.Validate) and the registries file (registryfile) share, so
// both suggest the same name for the same typo.
//
// Rules:
//   - Names compare case-insensitively; a name equal but for case is the answer at once.
//   - Distance is the optimal string alignment distance in runes: insertions, deletions,
//     substitutions and adjacent transpositions ("passwrod" is one edit from "password"),
//     the commonest typos. agnivade/levenshtein, the library in common use, lacks
//     transpositions.
//   - Close enough is at most a third of the name's runes, and at least one edit: "ur" is
//     "url", "x" is not "id" (two edits in one rune; the API's old copy, two edits in bytes
//     whatever the length, said it was), "secrtAccesKy" is "secretAccessKey" (three in
//     twelve).
//   - Inputs longer than 64 runes are never a typo of a field name (and bound the work).
package suggest
