package testenv_test

import (
	"fmt"
	"os"

	"github.com/regcred/regcred/internal/testenv"
)

// In CI a missing component fails its integration tests instead of skipping them.
func ExampleStrict() {
	ci, req := os.Getenv("CI"), os.Getenv("REGCRED_REQUIRE_INTEGRATION")
	defer func() { os.Setenv("CI", ci); os.Setenv("REGCRED_REQUIRE_INTEGRATION", req) }()
	os.Setenv("CI", "true")
	fmt.Println(testenv.Strict())
	os.Setenv("CI", "")
	os.Setenv("REGCRED_REQUIRE_INTEGRATION", "")
	fmt.Println(testenv.Strict())
	// Output:
	// true
	// false
}
