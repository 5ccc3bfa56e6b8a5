package row

import (
	"maps"
	"slices"
	"strings"

	"github.com/regcred/regcred/registry"
)

// SortedClones returns copies of the records, sorted by ID as Store.List promises: the
// listing of the stores that keep their records in a map (memory, file).
func SortedClones(m map[string]registry.Registry) []registry.Registry {
	out := slices.SortedFunc(maps.Values(m), func(a, b registry.Registry) int { return strings.Compare(a.ID, b.ID) })
	for i := range out {
		out[i] = out[i].Clone()
	}
	return out
}
