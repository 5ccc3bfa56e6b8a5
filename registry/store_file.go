package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/regcred/regcred/internal/atomicfile"
)

// FileStore is a Store in one JSON file. It keeps the real secret values, so the file is
// written with mode 0600 (its directory, when FileStore creates it, 0700), and always
// atomically: a temporary file in the same directory, fsync, rename over the old file,
// fsync of the directory. A crash leaves the old file or the new one, never half of one.
//
// The records are loaded once, by NewFileStore, and served from memory; every write
// rewrites the file before it takes effect in memory, so a failed write changes nothing.
// It is safe for concurrent use within a process. Open one FileStore per file: one process,
// and one FileStore in it, owns the file (there is no cross-process lock). A file found
// readable by group or others is set to 0600 when opened.
type FileStore struct {
	records
	path string
}

var _ Store = (*FileStore)(nil)

// fileStoreDoc is the file's shape: each record in the stored form (MarshalStored).
type fileStoreDoc struct {
	Registries []json.RawMessage `json:"registries"`
}

// NewFileStore opens the store at path, creating its directory (0700) when missing. A
// missing file is an empty store; the file is created by the first write.
func NewFileStore(path string) (*FileStore, error) {
	if path == "" {
		return nil, &Error{Op: "open store", Err: &FieldError{Field: "path", Reason: "is empty"}}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, &Error{Op: "open store", Registry: path, Err: err}
	}
	s := &FileStore{path: path, records: records{recs: make(map[string]Registry)}}
	s.persist = s.write
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, &Error{Op: "open store", Registry: path, Err: err}
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		// The file holds real secrets: take it back from group and others now rather
		// than at the next write.
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, &Error{Op: "open store", Registry: path, Err: fmt.Errorf("the file is readable by others (mode %v) and chmod failed: %w", fi.Mode().Perm(), err)}
		}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return s, nil
	}
	var doc fileStoreDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, &Error{Op: "open store", Registry: path, Err: fmt.Errorf("the file is not a registry store (%v): %w", err, ErrInvalid)}
	}
	for i, raw := range doc.Registries {
		r, err := UnmarshalStored(raw)
		if err != nil {
			return nil, &Error{Op: "open store", Registry: path, Err: fmt.Errorf("record %d: %w", i+1, err)}
		}
		if r.ID == "" {
			return nil, &Error{Op: "open store", Registry: path, Err: fmt.Errorf("registry %q has no id: %w", r.Name, ErrInvalid)}
		}
		if _, dup := s.recs[r.ID]; dup {
			return nil, &Error{Op: "open store", Registry: path, Err: fmt.Errorf("id %q appears twice: %w", r.ID, ErrInvalid)}
		}
		s.recs[r.ID] = r
	}
	return s, nil
}

// Path is the file's path.
func (s *FileStore) Path() string { return s.path }

// write replaces the file atomically with recs.
func (s *FileStore) write(recs map[string]Registry) error {
	sorted := sortedRecords(recs)
	doc := fileStoreDoc{Registries: make([]json.RawMessage, len(sorted))}
	for i, r := range sorted {
		raw, err := MarshalStored(r)
		if err != nil {
			return err
		}
		doc.Registries[i] = raw
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	data = append(data, '\n')
	return atomicfile.Write(s.path, data)
}

// String summarizes the store without its records.
func (s *FileStore) String() string {
	return fmt.Sprintf("registry.FileStore{%s, %d registries}", s.path, s.count())
}

// Format prints String under every verb: the records hold real secrets.
func (s *FileStore) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue keeps slog from encoding the records.
func (s *FileStore) LogValue() slog.Value { return slog.StringValue(s.String()) }
