package suggest_test

import (
	"fmt"

	"github.com/regcred/regcred/internal/suggest"
)

func ExampleNearest() {
	fields := []string{"username", "password", "url"}
	fmt.Printf("%q\n", suggest.Nearest("passwrod", fields))
	fmt.Printf("%q\n", suggest.Nearest("user", fields))
	// Output:
	// "password"
	// ""
}
