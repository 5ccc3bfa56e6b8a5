package boundedfile_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/regcred/regcred/internal/boundedfile"
)

func Example() {
	dir, _ := os.MkdirTemp("", "boundedfile-example-")
	defer os.RemoveAll(dir)
	token := filepath.Join(dir, "token")
	os.WriteFile(token, []byte("ghp_example\n"), 0o600)

	b, err := boundedfile.ReadFile(token, 1<<20)
	fmt.Printf("%q %v\n", b, err)

	_, err = boundedfile.ReadFile(dir, 1<<20)
	fmt.Println(strings.TrimPrefix(err.Error(), dir), errors.Is(err, boundedfile.ErrNotRegular))

	_, err = boundedfile.ReadAll(strings.NewReader(strings.Repeat("x", 2048)), 1024)
	fmt.Println(err, errors.Is(err, boundedfile.ErrTooLarge))
	// Output:
	// "ghp_example\n" <nil>
	//  is a directory, not a regular file true
	// input is too large (at most 1 KiB) true
}
