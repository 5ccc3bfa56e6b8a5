package boundedfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular matches every *NotRegularError.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge matches every *TooLargeError.
var ErrTooLarge = errors.New("input too large")

// NotRegularError says that a path names something other than a regular file.
type NotRegularError struct {
	Path string
	Mode fs.FileMode // the type bits of what the path is
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", e.Path, Describe(e.Mode))
}

// Is makes errors.Is(err, ErrNotRegular) true.
func (e *NotRegularError) Is(target error) bool { return target == ErrNotRegular }

// TooLargeError says that an input is larger than the limit. Path is empty for a reader.
type TooLargeError struct {
	Path  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	if e.Path == "" {
		return "input is too large (at most " + Size(e.Limit) + ")"
	}
	return e.Path + " is too large (at most " + Size(e.Limit) + ")"
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// ReadFile returns the content of the regular file at path (following symlinks), refusing
// anything else and anything larger than limit bytes. Errors from opening the path (not
// found, permission) are the *fs.PathError of os.OpenFile.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNonblock, 0)
	if err != nil {
		// A socket cannot be opened at all (ENXIO): say what it is rather than why open failed.
		if fi, serr := os.Stat(path); serr == nil && !fi.Mode().IsRegular() {
			return nil, &NotRegularError{Path: path, Mode: fi.Mode().Type()}
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &NotRegularError{Path: path, Mode: fi.Mode().Type()}
	}
	b, err := readAtMost(f, limit, fi.Size())
	if errors.Is(err, ErrTooLarge) {
		return nil, &TooLargeError{Path: path, Limit: limit}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	return b, nil
}

// ReadAll reads r to its end, refusing an input larger than limit bytes with a
// *TooLargeError (without a path); at most limit+1 bytes are read.
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	return readAtMost(r, limit, -1)
}

func readAtMost(r io.Reader, limit, hint int64) ([]byte, error) {
	if limit < 0 {
		limit = 0
	}
	size := int64(512)
	if hint > 0 && hint <= limit {
		size = hint + 1 // +1 so the EOF read does not grow the buffer
	}
	buf := make([]byte, 0, size)
	b, err := appendAll(buf, io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	return b, nil
}

// appendAll is io.ReadAll starting from buf.
func appendAll(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// Describe names a file type for an error message: "a directory", "a named pipe (FIFO)".
func Describe(m fs.FileMode) string {
	switch t := m.Type(); {
	case t == 0:
		return "a regular file"
	case t&fs.ModeDir != 0:
		return "a directory"
	case t&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeCharDevice != 0:
		return "a character device"
	case t&fs.ModeDevice != 0:
		return "a block device"
	case t&fs.ModeSymlink != 0:
		return "a symbolic link"
	default:
		return "a special file (" + t.String() + ")"
	}
}

// Size formats a byte count the way limits are written in docs: "1 MiB", "4 MiB", "512 KiB".
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

// NewReader returns a reader of r that fails with a *TooLargeError (without a path) once r
// has more than limit bytes, for a consumer that reads its input itself (a protocol
// library reading stdin). It never reads more than limit+1 bytes of r.
func NewReader(r io.Reader, limit int64) io.Reader {
	return &limitedReader{r: r, left: limit + 1, limit: limit}
}

type limitedReader struct {
	r     io.Reader
	left  int64 // bytes that may still be read, one past the limit
	limit int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, &TooLargeError{Limit: l.limit}
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left <= 0 {
		// The byte past the limit was read: the input is too large. Hand back only what is
		// within the limit.
		return n - 1, &TooLargeError{Limit: l.limit}
	}
	return n, err
}
