package untrusted_test

import (
	"fmt"

	"github.com/regcred/regcred/internal/untrusted"
)

// A reason phrase from a hostile registry that would clear the screen and reorder text
// is shown as inert text.
func ExampleText() {
	reason := "401 \x1b[2J\x1b[HUnauthorized \u202eslirtnoc"
	fmt.Println(untrusted.Text(reason))
	fmt.Println(untrusted.Limit("a very long certificate subject", 12))
	// Output:
	// 401 \x1b[2J\x1b[HUnauthorized \u202eslirtnoc
	// a very long…
}
