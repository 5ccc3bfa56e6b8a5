package nodeconfig

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// Apply writes the plan's files under root ("/" on the node itself), each atomically (a
// temporary file in the same directory, fsync, rename) with its mode; missing directories
// are created 0755. Files already as planned are not touched. Nothing is read or written
// outside root: a symlink that leads out of it is ErrOutsideRoot. It returns the node
// paths it wrote, and stops at the first failure, leaving that file as it was.
func Apply(p *Plan, root string) (written []string, err error) {
	n, err := openNode(root, true)
	if err != nil {
		return nil, &Error{Runtime: p.Runtime, Err: err}
	}
	defer n.close()
	for _, f := range p.Files {
		old, mode, err := n.read(f.Path)
		if err != nil {
			return written, &Error{Runtime: p.Runtime, Registry: f.Path, Err: err}
		}
		if unchanged(old, mode, f) {
			continue
		}
		if err := n.write(f.Path, f.Data, f.Mode); err != nil {
			return written, &Error{Runtime: p.Runtime, Registry: f.Path, Err: err}
		}
		written = append(written, f.Path)
	}
	return written, nil
}

// unchanged reports whether a node file (nil: missing) already holds f's data with f's
// mode.
func unchanged(old []byte, mode fs.FileMode, f File) bool {
	return old != nil && mode == f.Mode.Perm() && bytes.Equal(old, f.Data)
}

// Diff writes a unified diff of what Apply would change under root to w, file by file
// (a/ is the node's file, b/ the planned one; a new file comes from /dev/null), and
// returns how many files would change. Lines of files with credentials are never shown:
// their passwords read REDACTED, and a change of credentials alone is said, not shown.
func Diff(w io.Writer, p *Plan, root string) (changed int, err error) {
	n, err := openNode(root, false)
	if err != nil {
		return 0, &Error{Runtime: p.Runtime, Err: err}
	}
	defer n.close()
	for _, f := range p.Files {
		old, oldMode, err := n.read(f.Path)
		if err != nil {
			return changed, &Error{Runtime: p.Runtime, Registry: f.Path, Err: err}
		}
		if unchanged(old, oldMode, f) {
			continue
		}
		changed++
		from := "a" + f.Path
		if old == nil {
			from = "/dev/null"
		}
		newData := f.Data
		if f.redact != nil {
			if old != nil {
				old = f.redact(old)
			}
			newData = f.redact(newData)
		}
		if oldMode != 0 && oldMode != f.Mode.Perm() {
			fmt.Fprintf(w, "# %s: mode %04o -> %04o\n", f.Path, oldMode, f.Mode.Perm())
		}
		if bytes.Equal(old, newData) {
			if f.redact != nil {
				fmt.Fprintf(w, "# %s: credentials change (not shown)\n", f.Path)
			}
			continue
		}
		text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: lines(old), B: lines(newData),
			FromFile: from, ToFile: "b" + f.Path, Context: 3,
		})
		if err != nil {
			return changed, err
		}
		io.WriteString(w, text)
	}
	return changed, nil
}

// lines splits b into lines that each end with a newline (difflib.SplitLines adds an
// empty last line that shows as a blank context line; a last line without a newline
// gets one).
func lines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	out := strings.SplitAfter(string(b), "\n")
	if out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	if last := out[len(out)-1]; !strings.HasSuffix(last, "\n") {
		out[len(out)-1] = last + "\n"
	}
	return out
}
