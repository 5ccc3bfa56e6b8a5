package hosts_test

import (
	"fmt"

	"github.com/regcred/regcred/internal/hosts"
)

func Example() {
	fmt.Println(hosts.Canonical("registry-1.docker.io"))
	fmt.Println(hosts.Canonical("[0:0::1]:5000"))
	fmt.Println(hosts.MatchWildcard("*.azurecr.io", "myreg.azurecr.io"))
	fmt.Println(hosts.MatchWildcard("*.azurecr.io", "a.b.azurecr.io"))
	// Output:
	// docker.io
	// [::1]:5000
	// true
	// false
}
