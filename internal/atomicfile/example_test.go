package atomicfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/regcred/regcred/internal/atomicfile"
)

func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "atomicfile")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "new", "config.json")
	if err := atomicfile.Write(path, []byte(`{"auths":{}}`)); err != nil {
		fmt.Println(err)
		return
	}
	fi, _ := os.Stat(path)
	di, _ := os.Stat(filepath.Dir(path))
	fmt.Println(fi.Mode().Perm(), di.Mode().Perm())
	// Output: -rw------- -rwx------
}
