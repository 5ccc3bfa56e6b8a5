package main

import (
	"context"
	"fmt"
	"io"
)

func Example() {
	// Exactly one source of registries is required.
	err := run(context.Background(), []string{"--kubeconfig", "/dev/null"}, io.Discard, nil)
	fmt.Println(err)
	// Output: usage: give exactly one of --registries FILE and --store DSN
}
