package redact_test

import (
	"fmt"

	"github.com/regcred/regcred/internal/redact"
)

func ExampleSet() {
	var s redact.Set
	s.AddAuthorization("Basic YWxpY2U6aHVudGVyMg==") // alice:hunter2
	fmt.Println(s.Replace("401 you sent Basic YWxpY2U6aHVudGVyMg== (password hunter2)", "REDACTED"))
	// Output:
	// 401 you sent Basic REDACTED (password REDACTED)
}
