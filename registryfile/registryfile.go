package registryfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/regcred/regcred/registry"
)

// EnvPath is the environment variable that names the registries file.
const EnvPath = "REGCRED_CONFIG"

// DefaultPath is where the registries file lives when neither a flag nor $REGCRED_CONFIG
// names one: $XDG_CONFIG_HOME/regcred/registries.yaml, else ~/.config/regcred/registries.yaml.
func DefaultPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "regcred", "registries.yaml")
}

// Path picks the registries file: flag when set, else $REGCRED_CONFIG, else DefaultPath.
func Path(flag string) string {
	if flag != "" {
		return flag
	}
	if p := os.Getenv(EnvPath); p != "" {
		return p
	}
	return DefaultPath()
}

// Error is a problem in the registries file. Its text names the file, the entry (by name
// and 1-based position) and the field, and never contains a secret value.
type Error struct {
	File  string // path, or "" for a reader
	Entry int    // 1-based position in the list; 0 for the file as a whole
	Name  string // the entry's name, when it has one
	Err   error  // often a *registry.FieldError
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Entry > 0 {
		if e.Name != "" {
			fmt.Fprintf(&b, "registry %q (entry %d): ", e.Name, e.Entry)
		} else {
			fmt.Fprintf(&b, "entry %d: ", e.Entry)
		}
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Option configures Decode.
type Option func(*decoder)

type decoder struct {
	file   string
	getenv func(string) (string, bool)
	read   func(string) ([]byte, error)
	dir    string
}

// WithFileName names the source in errors and resolves relative file: paths against its
// directory. Load sets it.
func WithFileName(name string) Option {
	return func(d *decoder) { d.file = name; d.dir = filepath.Dir(name) }
}

// WithLookupEnv replaces os.LookupEnv for ${VAR} values (tests, sandboxes).
func WithLookupEnv(f func(string) (string, bool)) Option {
	return func(d *decoder) { d.getenv = f }
}

// Load reads and validates the registries file at path.
func Load(path string) ([]registry.Registry, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &Error{File: path, Err: fmt.Errorf("registries file not found (%w): create it, pass -f FILE or set $%s", registry.ErrNotFound, EnvPath)}
		}
		return nil, &Error{File: path, Err: err}
	}
	defer f.Close()
	return Decode(f, WithFileName(path))
}

// entry is one registry as written in the file.
type entry struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Type        string            `json:"type"`
	Kind        string            `json:"kind"` // alias of type
	URL         string            `json:"url"`
	Server      string            `json:"server"` // alias of url
	Default     bool              `json:"default"`
	Owner       string            `json:"owner"`
	Credentials map[string]string `json:"credentials"`
	TLS         *tlsEntry         `json:"tls"`
}

type tlsEntry struct {
	Mode        string `json:"mode"`
	CA          string `json:"ca"`
	CAFile      string `json:"caFile"`
	SystemRoots bool   `json:"systemRoots"`
}

// Decode reads a registries file from r, resolves ${ENV} and file: values, and validates
// every entry. It returns the registries in file order, or the first error.
func Decode(r io.Reader, opts ...Option) ([]registry.Registry, error) {
	d := &decoder{getenv: os.LookupEnv, read: os.ReadFile}
	for _, o := range opts {
		o(d)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &Error{File: d.file, Err: err}
	}
	entries, err := parse(data)
	if err != nil {
		return nil, &Error{File: d.file, Err: err}
	}
	out := make([]registry.Registry, 0, len(entries))
	seen := map[string]int{}
	defaults := 0
	for i, e := range entries {
		reg, err := d.convert(e)
		if err != nil {
			return nil, &Error{File: d.file, Entry: i + 1, Name: e.Name, Err: err}
		}
		if j, dup := seen[reg.ID]; dup {
			return nil, &Error{File: d.file, Entry: i + 1, Name: e.Name,
				Err: &registry.FieldError{Field: "name", Reason: fmt.Sprintf("has the same id %q as entry %d", reg.ID, j), Hint: "give each registry its own name or id"}}
		}
		seen[reg.ID] = i + 1
		if reg.Default {
			defaults++
			if defaults > 1 {
				return nil, &Error{File: d.file, Entry: i + 1, Name: e.Name,
					Err: &registry.FieldError{Field: "default", Reason: "a second registry is marked default", Hint: "mark exactly one"}}
			}
		}
		out = append(out, reg)
	}
	return out, nil
}

func parse(data []byte) ([]entry, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, nil
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	var entries []entry
	if bytes.HasPrefix(bytes.TrimSpace(js), []byte("{")) {
		var wrapped struct {
			Registries []entry `json:"registries"`
		}
		if err := strictJSON(js, &wrapped); err != nil {
			return nil, err
		}
		return wrapped.Registries, nil
	}
	if err := strictJSON(js, &entries); err != nil {
		return nil, err
	}
	return entries, nil
}

func strictJSON(js []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("unexpected content: %w (expected a list of registries with name, type, url, credentials)", err)
	}
	return nil
}

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

func (d *decoder) convert(e entry) (registry.Registry, error) {
	typ := e.Type
	if typ == "" {
		typ = e.Kind
	}
	if typ == "" {
		return registry.Registry{}, &registry.FieldError{Field: "type", Reason: "is missing", Hint: "e.g. type: GHCR"}
	}
	kind, err := registry.ParseKind(typ)
	if err != nil {
		return registry.Registry{}, err
	}
	r := registry.Registry{
		ID: e.ID, Name: e.Name, Kind: kind, Default: e.Default, Owner: e.Owner, Version: 1,
		Server: firstNonEmpty(e.URL, e.Server),
	}
	if r.ID == "" {
		r.ID = strings.Trim(slugRE.ReplaceAllString(strings.ToLower(e.Name), "-"), "-")
	}
	for name, v := range e.Credentials {
		val, err := d.resolve(name, v)
		if err != nil {
			return r, err
		}
		lower := strings.ToLower(name)
		if lower == "url" || lower == "server" || (lower == "registry" && kind != registry.KindECR) {
			if r.Server != "" && r.Server != val {
				return r, &registry.FieldError{Field: "url", Reason: "is given twice with different values", Hint: "keep one"}
			}
			r.Server = val
			continue
		}
		if f, ok := fieldByFold(kind, name); ok {
			name = f
		}
		if r.Fields == nil {
			r.Fields = map[string]string{}
		}
		r.Fields[name] = val
	}
	if e.TLS != nil {
		r.TLS.Mode = registry.TLSMode(strings.ToLower(e.TLS.Mode))
		r.TLS.SystemRoots = e.TLS.SystemRoots
		ca := e.TLS.CA
		if e.TLS.CAFile != "" {
			ca = "file:" + e.TLS.CAFile
		}
		if ca != "" {
			v, err := d.resolve("tls.ca", ca)
			if err != nil {
				return r, err
			}
			r.TLS.CABundle = v
			if r.TLS.Mode == "" {
				r.TLS.Mode = registry.TLSCustomCA
			}
		}
	}
	return r, r.Validate()
}

func fieldByFold(k registry.Kind, name string) (string, bool) {
	for _, f := range k.Fields() {
		if strings.EqualFold(f.Name, name) {
			return f.Name, true
		}
	}
	return "", false
}

var envRE = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// resolve turns "${VAR}" into the variable's value and "file:/path" into the file's content
// (one trailing newline dropped); anything else is taken literally.
func (d *decoder) resolve(field, v string) (string, error) {
	if m := envRE.FindStringSubmatch(v); m != nil {
		val, ok := d.getenv(m[1])
		if !ok {
			return "", &registry.FieldError{Field: field, Reason: "refers to $" + m[1] + ", which is not set", Hint: "export it before running"}
		}
		return val, nil
	}
	if p, ok := strings.CutPrefix(v, "file:"); ok {
		if !filepath.IsAbs(p) && d.dir != "" {
			p = filepath.Join(d.dir, p)
		}
		b, err := d.read(p)
		if err != nil {
			msg := err.Error()
			var pe *os.PathError
			if errors.As(err, &pe) {
				msg = pe.Err.Error()
			}
			return "", &registry.FieldError{Field: field, Reason: "cannot read " + p + ": " + msg}
		}
		s := string(b)
		s = strings.TrimSuffix(s, "\n")
		s = strings.TrimSuffix(s, "\r")
		return s, nil
	}
	return v, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
