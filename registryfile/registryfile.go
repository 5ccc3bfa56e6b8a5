package registryfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/regcred/regcred/internal/boundedfile"
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

// The size limits. Both inputs are read whole and refused, before parsing, when larger.
const (
	// MaxFileSize bounds the registries file: 2 MiB holds about 14,000 registries, and
	// a file that size is decoded and validated in about 0.2 s with about 80 MB allocated
	// (BenchmarkDecode; sigs.k8s.io/yaml, used before, only parses it with 20% more).
	MaxFileSize = 2 << 20
	// MaxValueFileSize bounds a file: value (a token, a service-account key, a CA bundle:
	// the full Mozilla bundle is about 220 KiB).
	MaxValueFileSize = 1 << 20
)

// Option configures Decode and Load.
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

func newDecoder(opts []Option) *decoder {
	d := &decoder{getenv: os.LookupEnv, read: func(p string) ([]byte, error) { return boundedfile.ReadFile(p, MaxValueFileSize) }}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Load reads and validates the registries file at path. Only a regular file (or a symlink
// to one) of at most MaxFileSize is read: a FIFO, a device or a directory is refused at
// once, without blocking.
func Load(path string, opts ...Option) ([]registry.Registry, error) {
	d := newDecoder(append([]Option{WithFileName(path)}, opts...))
	data, err := boundedfile.ReadFile(path, MaxFileSize)
	if err != nil {
		return nil, d.readError(err)
	}
	return d.decode(data)
}

// Decode reads a registries file from r (at most MaxFileSize bytes), resolves ${ENV} and
// file: values, and validates every entry. It returns the registries in file order, or
// every problem found (see Error).
func Decode(r io.Reader, opts ...Option) ([]registry.Registry, error) {
	d := newDecoder(opts)
	data, err := boundedfile.ReadAll(r, MaxFileSize)
	if err != nil {
		return nil, d.readError(err)
	}
	return d.decode(data)
}

func (d *decoder) readError(err error) error {
	var nr *boundedfile.NotRegularError
	switch {
	case errors.Is(err, os.ErrNotExist):
		err = &wrapped{"registries file not found: create it, pass -f FILE or set $" + EnvPath, registry.ErrNotFound}
	case errors.As(err, &nr):
		err = &wrapped{"the registries file is " + boundedfile.Describe(nr.Mode) + ", not a regular file: give the path of a YAML file", boundedfile.ErrNotRegular}
	case errors.Is(err, boundedfile.ErrTooLarge):
		err = &wrapped{"the registries file is too large (at most " + boundedfile.Size(MaxFileSize) + ")", boundedfile.ErrTooLarge}
	default:
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("cannot read the registries file: %w", pe.Err)
		}
	}
	return &Error{File: d.file, Err: err}
}

// wrapped is a message that matches a sentinel (errors.Is) without repeating its text.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

// decode parses data and converts every entry, collecting every problem.
func (d *decoder) decode(data []byte) ([]registry.Registry, error) {
	root, err := parseYAML(data)
	if err != nil {
		return nil, &Error{File: d.file, Err: err}
	}
	if root == nil {
		return nil, nil
	}
	w := &walker{}
	var errs []error
	fileBad := func(line int, err error) { errs = append(errs, &Error{File: d.file, Line: line, Err: err}) }
	list, err := d.list(w, root, fileBad)
	if err != nil {
		return nil, &Error{File: d.file, Err: err}
	}
	if list == nil {
		return nil, join(errs)
	}
	out := make([]registry.Registry, 0, len(list.Content))
	seen := map[string]int{}
	defaults := 0
	for i, item := range list.Content {
		reg, line, problems, err := d.entry(w, item, i+1)
		if err != nil {
			return nil, &Error{File: d.file, Err: err}
		}
		if len(problems) > 0 {
			errs = append(errs, problems...)
			continue
		}
		bad := func(fe *registry.FieldError) {
			errs = append(errs, &Error{File: d.file, Line: line, Entry: i + 1, Name: reg.Name, Err: fe})
		}
		if j, dup := seen[reg.ID]; dup {
			bad(&registry.FieldError{Field: "name", Reason: fmt.Sprintf("has the same id %q as entry %d", reg.ID, j), Hint: "give each registry its own name or id"})
			continue
		}
		seen[reg.ID] = i + 1
		if reg.Default {
			defaults++
			if defaults > 1 {
				bad(&registry.FieldError{Field: "default", Reason: "a second registry is marked default", Hint: "mark exactly one"})
				continue
			}
		}
		out = append(out, reg)
	}
	if err := join(errs); err != nil {
		return nil, err
	}
	if err := registry.ValidateMirrors(out); err != nil { // loops and unknown upstreams span entries
		return nil, &Error{File: d.file, Err: err}
	}
	return out, nil
}

// list finds the list of registries: the root itself, or the value of its registries key.
func (d *decoder) list(w *walker, root *yaml.Node, bad func(int, error)) (*yaml.Node, error) {
	root, err := w.deref(root)
	if err != nil {
		return nil, err
	}
	if root.Kind == yaml.MappingNode {
		pairs, err := w.mapping(root, "", false, bad)
		if err != nil {
			return nil, err
		}
		var list *yaml.Node
		for _, p := range pairs {
			if p.key != "registries" {
				bad(p.line, unknownKey("", p, "the registries file", topKeys))
				continue
			}
			list = p.val
		}
		if list == nil {
			return nil, nil
		}
		root = list
	}
	if v, ok := scalar(root); ok && v == "" {
		return nil, nil // "registries:" with nothing under it
	}
	if root.Kind != yaml.SequenceNode {
		bad(root.Line, fmt.Errorf("expected a list of registries (each with name, type, url, credentials), found %s", describe(root)))
		return nil, nil
	}
	return root, nil
}

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

// entry converts one list item. problems holds every problem of the entry, unknown and
// duplicate keys first, then values that cannot be read, then what registry.Validate finds;
// err is only the node budget.
func (d *decoder) entry(w *walker, n *yaml.Node, idx int) (reg registry.Registry, line int, problems []error, err error) {
	n, err = w.deref(n)
	if err != nil {
		return reg, 0, nil, err
	}
	line = n.Line
	var structural, values []error
	reported := map[string]bool{} // fields with a problem already: Validate's word on them is noise
	add := func(list *[]error, line int, err error) {
		var fe *registry.FieldError
		if errors.As(err, &fe) {
			reported[fe.Field] = true
		}
		*list = append(*list, &Error{File: d.file, Line: line, Entry: idx, Err: err})
	}
	finish := func() []error {
		all := append(structural, values...)
		for _, e := range all {
			e.(*Error).Name = reg.Name
		}
		return all
	}
	if n.Kind != yaml.MappingNode {
		add(&structural, n.Line, fmt.Errorf("is %s; each registry is a mapping of name, type, url, credentials", describe(n)))
		return reg, line, finish(), nil
	}
	pairs, err := w.mapping(n, "", false, func(l int, e error) { add(&structural, l, e) })
	if err != nil {
		return reg, line, nil, err
	}
	lines := map[string]int{} // field -> line, for Validate's problems
	str := func(p pair, field string) string {
		lines[field] = p.line
		v, ok := scalar(p.val)
		if !ok {
			add(&values, p.line, &registry.FieldError{Field: field, Reason: "must be a single value, not " + describe(p.val)})
		}
		return v
	}
	var typ, typeKey, url, urlKey string
	var creds, tls, mirror *pair
	for i := range pairs {
		p := pairs[i]
		switch p.key {
		case "name":
			reg.Name = str(p, "name")
		case "id":
			reg.ID = str(p, "id")
		case "owner":
			reg.Owner = str(p, "owner")
		case "type", "kind":
			v := str(p, "type")
			if typeKey != "" && v != typ {
				add(&structural, p.line, &registry.FieldError{Field: p.key, Reason: "is given as well as " + typeKey + " (they are the same field)", Hint: "keep one"})
				continue
			}
			typ, typeKey = v, p.key
		case "url", "server":
			v := str(p, "url")
			if urlKey != "" && v != url {
				add(&structural, p.line, &registry.FieldError{Field: p.key, Reason: "is given as well as " + urlKey + " (they are the same field)", Hint: "keep one"})
				continue
			}
			url, urlKey = v, p.key
		case "default":
			lines["default"] = p.line
			b, ok := boolean(p.val)
			if !ok {
				add(&values, p.line, &registry.FieldError{Field: "default", Reason: "must be true or false"})
			}
			reg.Default = b
		case "credentials":
			creds = &pairs[i]
		case "tls":
			tls = &pairs[i]
		case "mirror":
			mirror = &pairs[i]
		default:
			fe := unknownKey("", p, "a registry entry", entryKeys)
			if fe.Hint == "" || !strings.HasPrefix(fe.Hint, "did you mean") {
				if k, err := registry.ParseKind(typOf(pairs)); err == nil {
					if f, ok := fieldByFold(k, p.key); ok {
						fe.Hint = fmt.Sprintf("%s is a credential field: put it under credentials:", f)
					}
				}
			}
			add(&structural, p.line, fe)
		}
	}
	if reg.ID == "" {
		reg.ID = strings.Trim(slugRE.ReplaceAllString(strings.ToLower(reg.Name), "-"), "-")
	}
	reg.Version = 1
	reg.Server = url
	kindOK := false
	switch {
	case typ == "" && !reported["type"]:
		add(&values, line, &registry.FieldError{Field: "type", Reason: "is missing", Hint: "e.g. type: GHCR"})
	case len(typ) > 64:
		add(&values, lines["type"], &registry.FieldError{Field: "type", Reason: "is not a registry type", Hint: "e.g. type: GHCR"})
	case typ != "":
		k, err := registry.ParseKind(typ)
		if err != nil {
			add(&values, lines["type"], err)
		} else {
			reg.Kind, kindOK = k, true
		}
	}
	if creds != nil {
		d.credentials(w, &reg, *creds, kindOK, lines, func(l int, e error) { add(&structural, l, e) }, func(l int, e error) { add(&values, l, e) })
	}
	if tls != nil {
		d.tls(w, &reg, *tls, lines, func(l int, e error) { add(&structural, l, e) }, func(l int, e error) { add(&values, l, e) })
	}
	if mirror != nil {
		d.mirror(w, &reg, *mirror, lines, func(l int, e error) { add(&structural, l, e) }, func(l int, e error) { add(&values, l, e) })
	}
	if kindOK {
		for _, e := range leaves(reg.Validate()) {
			var fe *registry.FieldError
			field := ""
			if errors.As(e, &fe) {
				field = fe.Field
			}
			if field != "" && reported[field] {
				continue
			}
			l, ok := lines[field]
			if !ok {
				l = line
			}
			add(&values, l, e)
		}
	}
	if len(structural)+len(values) > 0 {
		return reg, line, finish(), nil
	}
	return reg, line, nil, nil
}

// typOf is the raw type of an entry, for hints.
func typOf(pairs []pair) string {
	for _, p := range pairs {
		if p.key == "type" || p.key == "kind" {
			v, _ := scalar(p.val)
			return v
		}
	}
	return ""
}

// credentials reads the credentials mapping into reg.Fields (names matched to the kind's
// schema case-insensitively) and the server keys into reg.Server.
func (d *decoder) credentials(w *walker, reg *registry.Registry, p pair, kindOK bool, lines map[string]int, structural, values func(int, error)) {
	if v, ok := scalar(p.val); ok && v == "" {
		return
	}
	if p.val.Kind != yaml.MappingNode {
		values(p.line, &registry.FieldError{Field: "credentials", Reason: "must be a mapping of field names to values, not " + describe(p.val)})
		return
	}
	pairs, err := w.mapping(p.val, "credentials.", true, structural)
	if err != nil {
		structural(p.line, err)
		return
	}
	var known []string
	if kindOK {
		for _, f := range reg.Kind.Fields() {
			known = append(known, f.Name)
		}
	}
	for _, c := range pairs {
		lower := strings.ToLower(c.key)
		isServer := lower == "url" || lower == "server" || (lower == "registry" && reg.Kind != registry.KindECR)
		name := c.key
		if !isServer {
			if f, ok := fieldByFold(reg.Kind, c.key); ok {
				name = f
			} else if kindOK {
				cands := append(append([]string(nil), known...), "url")
				fe := unknownKey("credentials.", c, reg.Kind.Label(), cands)
				structural(c.line, fe)
				continue
			}
		}
		field := name
		if isServer {
			field = "url"
		}
		lines[field] = c.line
		raw, ok := scalar(c.val)
		if !ok {
			values(c.line, &registry.FieldError{Field: field, Reason: "must be a single value, not " + describe(c.val),
				Hint: "for a JSON key use file:PATH or a block scalar (|)"})
			continue
		}
		val, err := d.resolve(field, raw)
		if err != nil {
			values(c.line, err)
			continue
		}
		if isServer {
			if reg.Server != "" && reg.Server != val {
				values(c.line, &registry.FieldError{Field: "url", Reason: "is given twice with different values", Hint: "keep one"})
				continue
			}
			reg.Server = val
			continue
		}
		if reg.Fields == nil {
			reg.Fields = map[string]string{}
		}
		reg.Fields[name] = val
	}
}

// tls reads the tls mapping.
func (d *decoder) tls(w *walker, reg *registry.Registry, p pair, lines map[string]int, structural, values func(int, error)) {
	if v, ok := scalar(p.val); ok && v == "" {
		return
	}
	if p.val.Kind != yaml.MappingNode {
		values(p.line, &registry.FieldError{Field: "tls", Reason: "must be a mapping (mode, ca, caFile, systemRoots), not " + describe(p.val)})
		return
	}
	pairs, err := w.mapping(p.val, "tls.", false, structural)
	if err != nil {
		structural(p.line, err)
		return
	}
	var ca, caKey string
	for _, t := range pairs {
		switch t.key {
		case "mode", "ca", "caFile":
			v, ok := scalar(t.val)
			if !ok {
				values(t.line, &registry.FieldError{Field: "tls." + t.key, Reason: "must be a single value, not " + describe(t.val)})
				continue
			}
			switch t.key {
			case "mode":
				lines["tls.mode"] = t.line
				reg.TLS.Mode = registry.TLSMode(strings.ToLower(v))
			case "ca", "caFile":
				if caKey != "" {
					structural(t.line, &registry.FieldError{Field: "tls." + t.key, Reason: "is given as well as tls." + caKey, Hint: "keep one"})
					continue
				}
				lines["tls.ca"] = t.line
				ca, caKey = v, t.key
				if t.key == "caFile" && v != "" {
					ca = "file:" + v
				}
			}
		case "systemRoots":
			lines["tls.systemRoots"] = t.line
			b, ok := boolean(t.val)
			if !ok {
				values(t.line, &registry.FieldError{Field: "tls.systemRoots", Reason: "must be true or false"})
			}
			reg.TLS.SystemRoots = b
		default:
			structural(t.line, unknownKey("tls.", t, "tls", tlsKeys))
		}
	}
	if ca != "" {
		v, err := d.resolve("tls.ca", ca)
		if err != nil {
			values(lines["tls.ca"], err)
			return
		}
		reg.TLS.CABundle = v
		if reg.TLS.Mode == "" {
			reg.TLS.Mode = registry.TLSCustomCA
		}
	}
}

// mirror reads "mirror: {of: docker.io, order: 0, fallback: false}" (or "mirror: docker.io")
// into reg.Mirror; nodeconfig turns it into each runtime's mirror configuration.
func (d *decoder) mirror(w *walker, reg *registry.Registry, p pair, lines map[string]int, structural, values func(int, error)) {
	lines["mirror.of"] = p.line
	if v, ok := scalar(p.val); ok {
		if v != "" {
			reg.Mirror = &registry.Mirror{Of: v}
		}
		return
	}
	if p.val.Kind != yaml.MappingNode {
		values(p.line, &registry.FieldError{Field: "mirror", Reason: "must be a mapping (of, order, fallback) or an upstream, not " + describe(p.val)})
		return
	}
	pairs, err := w.mapping(p.val, "mirror.", false, structural)
	if err != nil {
		structural(p.line, err)
		return
	}
	m := &registry.Mirror{}
	for _, t := range pairs {
		lines["mirror."+t.key] = t.line
		switch t.key {
		case "of":
			v, ok := scalar(t.val)
			if !ok {
				values(t.line, &registry.FieldError{Field: "mirror.of", Reason: "must be a single value, not " + describe(t.val)})
			}
			m.Of = v
		case "order":
			v, _ := scalar(t.val)
			n, err := strconv.Atoi(v)
			if err != nil {
				values(t.line, &registry.FieldError{Field: "mirror.order", Reason: "must be a whole number", Hint: "0 is tried first"})
			}
			m.Order = n
		case "fallback":
			b, ok := boolean(t.val)
			if !ok {
				values(t.line, &registry.FieldError{Field: "mirror.fallback", Reason: "must be true or false"})
			}
			m.Fallback = b
		default:
			structural(t.line, unknownKey("mirror.", t, "mirror", mirrorKeys))
		}
	}
	reg.Mirror = m
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
// (one trailing newline dropped); anything else is taken literally. A file: value must be
// a regular file (or a symlink to one) of at most MaxValueFileSize.
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
			return "", fileError(field, p, err)
		}
		s := string(b)
		s = strings.TrimSuffix(s, "\n")
		s = strings.TrimSuffix(s, "\r")
		return s, nil
	}
	return v, nil
}

// fileError says why the file of a file: value cannot be used, naming the path (never its
// content).
func fileError(field, p string, err error) *registry.FieldError {
	var nr *boundedfile.NotRegularError
	switch {
	case errors.As(err, &nr):
		return &registry.FieldError{Field: field, Reason: "names " + p + ", which is " + boundedfile.Describe(nr.Mode) + ", not a regular file",
			Hint: "point file: at a regular file"}
	case errors.Is(err, boundedfile.ErrTooLarge):
		return &registry.FieldError{Field: field, Reason: "names " + p + ", which is too large (at most " + boundedfile.Size(MaxValueFileSize) + ")"}
	}
	msg := err.Error()
	var pe *os.PathError
	if errors.As(err, &pe) {
		msg = pe.Err.Error()
	}
	return &registry.FieldError{Field: field, Reason: "cannot read " + p + ": " + msg}
}
