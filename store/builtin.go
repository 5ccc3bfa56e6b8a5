package store

import (
	"context"
	"io"
	"strings"

	"github.com/regcred/regcred/registry"
)

// The built-in drivers: file: (registry.FileStore) and memory: (registry.MemoryStore).
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
	fs, err := registry.NewFileStore(path)
	if err != nil {
		return nil, err
	}
	return &fileStore{fs}, nil
}

// openMemory opens "memory:": a new empty MemoryStore each time.
func openMemory(_ context.Context, dsn string, _ Config) (Store, error) {
	if rest := dsn[len("memory:"):]; rest != "" {
		return nil, &registry.Error{Op: "open store", Err: &registry.FieldError{Field: "dsn", Reason: "memory: takes nothing after the colon"}}
	}
	return &memoryStore{registry.NewMemoryStore()}, nil
}

// fileStore and memoryStore add Close to the built-in stores; embedding the pointer keeps
// every optional interface they implement (Watch, Rewrite).
type fileStore struct{ *registry.FileStore }

func (s *fileStore) Close() error { return closeIfCloser(s.FileStore) }

type memoryStore struct{ *registry.MemoryStore }

func (s *memoryStore) Close() error { return closeIfCloser(s.MemoryStore) }

func closeIfCloser(v any) error {
	if c, ok := v.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
