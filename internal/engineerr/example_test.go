package engineerr_test

import (
	"errors"
	"fmt"

	"github.com/regcred/regcred/internal/engineerr"
)

// A registry on port 40103 answers "manifest unknown": the port does not make it a 401.
func ExampleClassify() {
	err := errors.New("manifest for 127.0.0.1:40103/shop/web:v1 not found: manifest unknown: manifest unknown")
	fmt.Println(engineerr.Classify(err))
	err = errors.New("login attempt to http://127.0.0.1:40103/v2/ failed with status: 401 Unauthorized")
	fmt.Println(engineerr.Classify(err))
	// Output:
	// not found
	// unauthorized
}
