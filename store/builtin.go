package store

import (
	"context"
	"strings"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/file"
	"github.com/regcred/regcred/store/memory"
)

// The built-in drivers: file: (file.Store) and memory: (memory.Store).
func init() {
	Register("file", openFile)
	Register("memory", openMemory)
}

// openFile opens "file:PATH" (also "file://PATH" for an absolute path).
func openFile(_ context.Context, dsn string, _ Config) (Store, error) {
	path := strings.TrimPrefix(dsn[len("file:"):], "//")
	if path == "" {
		return nil, &registry.Error{Op: "open store", Err: &registry.FieldError{Field: "dsn", Reason: "file: has no path", Hint: "write file:/var/lib/app/registries.json"}}
	}
	fs, err := file.New(path)
	if err != nil {
		return nil, err
	}
	return fs, nil
}

// openMemory opens "memory:": a new empty MemoryStore each time.
func openMemory(_ context.Context, dsn string, _ Config) (Store, error) {
	if rest := dsn[len("memory:"):]; rest != "" {
		return nil, &registry.Error{Op: "open store", Err: &registry.FieldError{Field: "dsn", Reason: "memory: takes nothing after the colon"}}
	}
	return memory.New(), nil
}
