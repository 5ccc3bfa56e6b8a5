package registryfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/regcred/regcred/internal/boundedfile"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/document"
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

// Entry is one registry of the file: the record, the line its entry starts on, and, when
// the entry gave no type, what was inferred from its URL (nil when it gave one).
type Entry struct {
	Registry registry.Registry
	Line     int
	Inferred *document.Inference
}

// Load reads and validates the registries file at path. Only a regular file (or a symlink
// to one) of at most MaxFileSize is read: a FIFO, a device or a directory is refused at
// once, without blocking.
func Load(path string, opts ...Option) ([]registry.Registry, error) {
	return records(LoadEntries(path, opts...))
}

// LoadEntries is Load with each registry's line and what was inferred for it.
func LoadEntries(path string, opts ...Option) ([]Entry, error) {
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
	return records(DecodeEntries(r, opts...))
}

// DecodeEntries is Decode with each registry's line and what was inferred for it.
func DecodeEntries(r io.Reader, opts ...Option) ([]Entry, error) {
	d := newDecoder(opts)
	data, err := boundedfile.ReadAll(r, MaxFileSize)
	if err != nil {
		return nil, d.readError(err)
	}
	return d.decode(data)
}

func records(entries []Entry, err error) ([]registry.Registry, error) {
	if err != nil || entries == nil {
		return nil, err
	}
	out := make([]registry.Registry, len(entries))
	for i, e := range entries {
		out[i] = e.Registry
	}
	return out, nil
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
func (d *decoder) decode(data []byte) ([]Entry, error) {
	roots, err := parseYAML(data)
	if err != nil {
		return nil, &Error{File: d.file, Err: err}
	}
	w := &walker{}
	var errs []error
	fileBad := func(line int, err error) { errs = append(errs, &Error{File: d.file, Line: line, Err: err}) }
	type item struct {
		node   *yaml.Node
		single bool
	}
	var items []item
	for _, root := range roots {
		list, single, err := d.list(w, root, fileBad)
		if err != nil {
			return nil, &Error{File: d.file, Err: err}
		}
		if list != nil {
			for _, n := range list.Content {
				items = append(items, item{n, single})
			}
		}
	}
	if len(items) == 0 {
		return nil, join(errs)
	}
	out := make([]Entry, 0, len(items))
	seen := map[string]int{}
	defaults := 0
	for i, it := range items {
		e, problems, err := d.entry(w, it.node, i+1, it.single)
		if err != nil {
			return nil, &Error{File: d.file, Err: err}
		}
		if len(problems) > 0 {
			errs = append(errs, problems...)
			continue
		}
		reg := e.Registry
		bad := func(fe *registry.FieldError) {
			errs = append(errs, &Error{File: d.file, Line: e.Line, Entry: i + 1, Name: reg.Name, Err: fe})
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
		out = append(out, e)
	}
	if err := join(errs); err != nil {
		return nil, err
	}
	regs, _ := records(out, nil)
	if err := registry.ValidateMirrors(regs); err != nil { // loops and unknown upstreams span entries
		return nil, &Error{File: d.file, Err: err}
	}
	return out, nil
}

// list finds the registries of one YAML document: the document itself when it is a list,
// the value of its registries key, or the document as the one entry when it is a mapping
// of an entry's keys (single is then true).
func (d *decoder) list(w *walker, root *yaml.Node, bad func(int, error)) (list *yaml.Node, single bool, err error) {
	root, err = w.deref(root)
	if err != nil {
		return nil, false, err
	}
	if root.Kind == yaml.MappingNode {
		if isEntry(root) {
			return &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{root}}, true, nil
		}
		pairs, err := w.mapping(root, "", false, bad)
		if err != nil {
			return nil, false, err
		}
		for _, p := range pairs {
			if p.key != "registries" {
				bad(p.line, unknownKey("", p, "the registries file", topKeys))
				continue
			}
			list = p.val
		}
		if list == nil {
			return nil, false, nil
		}
		root = list
	}
	if v, ok := scalar(root); ok && v == "" {
		return nil, false, nil // "registries:" with nothing under it
	}
	if root.Kind != yaml.SequenceNode {
		bad(root.Line, fmt.Errorf("expected a list of registries (each with name, type, url, credentials), found %s", describe(root)))
		return nil, false, nil
	}
	return root, false, nil
}

// isEntry reports whether a top-level mapping is one registry (it has no registries key and
// at least one key of an entry) rather than the file's mapping.
func isEntry(m *yaml.Node) bool {
	entry := false
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i].Value
		if k == "registries" {
			return false
		}
		entry = entry || slices.Contains(entryKeys, k)
	}
	return entry
}

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

// entry converts one list item (single: the item is a whole document). problems holds
// every problem of the entry, unknown and duplicate keys first, then values that cannot be
// read, then what registry.Validate finds; err is only the node budget.
//
// An entry is written in our shape (type, credentials: {...}) or in the product documents'
// flat one (no type: inferred from the url's host; username and password beside the url,
// mapped to the kind's own fields by document.FlatFields). Problems name the keys as the
// entry wrote them: a GHCR token given as password is "password".
func (d *decoder) entry(w *walker, n *yaml.Node, idx int, single bool) (e Entry, problems []error, err error) {
	n, err = w.deref(n)
	if err != nil {
		return e, nil, err
	}
	var reg registry.Registry
	line := n.Line
	e.Line = line
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
		return e, finish(), nil
	}
	pairs, err := w.mapping(n, "", false, func(l int, err error) {
		var fe *registry.FieldError
		if single && errors.As(err, &fe) && strings.HasPrefix(fe.Reason, "is given twice") {
			fe.Hint = "several registries pasted one after another? separate them with a line of --- or make a list (- name: ...)"
		}
		add(&structural, l, err)
	})
	if err != nil {
		return e, nil, err
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
	var flat []pair // the documents' username and password
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
		case "username", "password":
			flat = append(flat, p)
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
	kindOK, inferred := false, false
	switch {
	case typ == "" && !reported["type"]:
		// The documents' shape: the kind comes from the url's host (the entry's url, else
		// the one under credentials:).
		srv, srvLine := url, lines["url"]
		if srv == "" && creds != nil {
			srv, srvLine = d.peekURL(creds)
		}
		if srvLine == 0 {
			srvLine = line
		}
		k, _, err := document.InferKind(srv)
		switch {
		case srv == "":
			add(&values, line, &registry.FieldError{Field: "type", Reason: "is missing and there is no url to infer it from", Hint: "give url (e.g. ghcr.io) or type (e.g. GHCR)"})
		case err != nil:
			add(&values, srvLine, err)
		default:
			reg.Kind, kindOK, inferred = k, true, true
		}
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
	flatAs := map[string]string{} // kind's field -> the flat key that filled it
	if len(flat) > 0 {
		d.flat(&reg, flat, creds != nil, kindOK, lines, flatAs, func(l int, e error) { add(&structural, l, e) }, func(l int, e error) { add(&values, l, e) })
	}
	if tls != nil {
		d.tls(w, &reg, *tls, lines, func(l int, e error) { add(&structural, l, e) }, func(l int, e error) { add(&values, l, e) })
	}
	if mirror != nil {
		d.mirror(w, &reg, *mirror, lines, func(l int, e error) { add(&structural, l, e) }, func(l int, e error) { add(&values, l, e) })
	}
	if kindOK {
		// The host gives some fields (ECR's and GAR's region, ACR's loginServer); an inferred
		// kind is inferred again from the final server (the same: a second url would have
		// been a problem above) so that Infer says what it filled.
		if inferred {
			reg.Kind = ""
		}
		inf, err := document.Infer(&reg)
		if err != nil { // cannot happen: the server parsed above
			add(&values, lines["url"], err)
		}
		e.Inferred = inf
		for _, fe := range leaves(reg.Validate()) {
			var f *registry.FieldError
			field := ""
			if errors.As(fe, &f) {
				field = f.Field
				if as := flatAs[field]; as != "" {
					c := *f
					c.Field, field = as, as
					fe = &c
				}
			}
			if field != "" && reported[field] {
				continue
			}
			l, ok := lines[field]
			if !ok {
				l = line
			}
			add(&values, l, fe)
		}
	}
	if len(structural)+len(values) > 0 {
		e.Registry = reg
		return e, finish(), nil
	}
	_ = reg.ParseServer() // valid: parsed once here, carried by every consumer
	e.Registry = reg
	return e, nil, nil
}

// flat reads the documents' username and password (beside the url, not under
// credentials:) into the kind's own fields (document.FlatFields: GHCR's and Quay's password
// is the token, ECR's username and password are the access key). Given beside credentials:
// they are a problem: one place or the other.
func (d *decoder) flat(reg *registry.Registry, flat []pair, hasCreds, kindOK bool, lines map[string]int, flatAs map[string]string, structural, values func(int, error)) {
	vals := map[string]string{}
	at := map[string]int{}
	for _, p := range flat {
		at[p.key] = p.line
		if hasCreds {
			structural(p.line, &registry.FieldError{Field: p.key, Reason: "is given beside credentials:",
				Hint: "write username and password beside the url (as the documents do) or all under credentials:, not both"})
			continue
		}
		raw, ok := scalar(p.val)
		if !ok {
			values(p.line, &registry.FieldError{Field: p.key, Reason: "must be a single value, not " + describe(p.val)})
			continue
		}
		v, err := d.resolve(p.key, raw)
		if err != nil {
			values(p.line, err)
			continue
		}
		vals[p.key] = v
	}
	if !kindOK || len(vals) == 0 {
		return
	}
	fields, err := document.FlatFields(reg.Kind, vals["username"], vals["password"])
	if err != nil {
		var fe *registry.FieldError
		l := 0
		if errors.As(err, &fe) {
			l = at[fe.Field]
		}
		values(l, err)
		return
	}
	for name, v := range fields {
		if reg.Fields == nil {
			reg.Fields = map[string]string{}
		}
		reg.Fields[name] = v
	}
	for _, name := range []string{"username", "password"} {
		for _, f := range reg.Kind.Fields() {
			if document.FlatFieldOf(reg.Kind, f.Name) == name {
				flatAs[f.Name] = name
				if l, ok := at[name]; ok {
					lines[f.Name] = l
				}
			}
		}
	}
}

// peekURL is the url given under credentials: (url, server or registry), resolved, and
// its line; "" when there is none or it cannot be read (credentials reports that).
func (d *decoder) peekURL(creds *pair) (string, int) {
	if creds.val.Kind != yaml.MappingNode {
		return "", 0
	}
	for i := 0; i+1 < len(creds.val.Content); i += 2 {
		k := strings.ToLower(creds.val.Content[i].Value)
		if k != "url" && k != "server" && k != "registry" {
			continue
		}
		raw, ok := scalar(creds.val.Content[i+1])
		if !ok {
			return "", 0
		}
		v, err := d.resolve("url", raw)
		if err != nil {
			return "", 0
		}
		return v, creds.val.Content[i].Line
	}
	return "", 0
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
