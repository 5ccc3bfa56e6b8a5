package registryfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/regcred/regcred/registry"
)

// The keys the file knows, in the order errors list them.
var (
	topKeys    = []string{"registries"}
	entryKeys  = []string{"name", "type", "kind", "id", "url", "server", "username", "password", "default", "owner", "credentials", "tls", "mirror"}
	tlsKeys    = []string{"mode", "ca", "caFile", "systemRoots"}
	mirrorKeys = []string{"of", "order", "fallback"}
	// credential keys that set the server instead of a field (registry: for all kinds but ECR,
	// whose registry field is the account's registry ID).
	serverKeys = []string{"url", "server", "registry"}
)

// maxNodes bounds the YAML nodes one Decode walks, aliases included, so a file of aliases
// to aliases ("billion laughs") cannot make a small file expensive.
const maxNodes = 1 << 20

// pair is one key of a mapping with its value (aliases resolved).
type pair struct {
	key  string
	line int
	val  *yaml.Node
}

// parseYAML parses data into the root nodes of its documents, empty documents left out
// (none for an empty file). Several documents (separated by ---) are several registries
// or lists of them: what pasting the documents' examples one after another gives.
func parseYAML(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var roots []*yaml.Node
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return roots, nil
			}
			return nil, syntaxError(err)
		}
		if len(doc.Content) > 0 {
			roots = append(roots, doc.Content[0])
		}
	}
}

var quotedRE = regexp.MustCompile(`'[^']*'|"[^"]*"|` + "`[^`]*`")

// syntaxError words a parser error without the text it quotes: an unquoted password that
// starts with * reads as an alias, and the parser names the "anchor" it did not find.
func syntaxError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if strings.Contains(msg, "unknown anchor") {
		return errors.New("not valid YAML: an alias (*name) refers to an anchor that is not defined; quote a value that starts with * or &")
	}
	msg = quotedRE.ReplaceAllString(msg, "(text left out)")
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	return errors.New("not valid YAML: " + msg)
}

// walker reads nodes, resolving aliases within the node budget and collecting problems.
type walker struct {
	nodes int
}

var errTooManyNodes = errors.New("the file expands to too many YAML nodes (aliases referring to aliases?); write the registries out")

// deref resolves an alias and counts the node against the budget.
func (w *walker) deref(n *yaml.Node) (*yaml.Node, error) {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	w.nodes++
	if n != nil {
		w.nodes += len(n.Content)
	}
	if w.nodes > maxNodes {
		return nil, errTooManyNodes
	}
	return n, nil
}

// mapping returns the pairs of mapping node m in order. Duplicate keys (compared with fold
// when fold is set) and merge keys are problems, reported through bad with their line;
// duplicates are dropped, the first kept.
func (w *walker) mapping(m *yaml.Node, where string, fold bool, bad func(line int, err error)) ([]pair, error) {
	var out []pair
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, err := w.deref(m.Content[i])
		if err != nil {
			return nil, err
		}
		v, err := w.deref(m.Content[i+1])
		if err != nil {
			return nil, err
		}
		if k.Kind != yaml.ScalarNode {
			bad(k.Line, fmt.Errorf("%sa key is not a plain name", where))
			continue
		}
		if k.Tag == "!!merge" {
			bad(k.Line, fmt.Errorf("%smerge keys (<<) are not supported; write the fields out", where))
			continue
		}
		id := k.Value
		if fold {
			id = strings.ToLower(id)
		}
		if first, dup := seen[id]; dup {
			bad(k.Line, &registry.FieldError{Field: where + shorten(k.Value),
				Reason: fmt.Sprintf("is given twice (first on line %d)", first), Hint: "keep one"})
			continue
		}
		seen[id] = k.Line
		out = append(out, pair{key: k.Value, line: k.Line, val: v})
	}
	return out, nil
}

// scalar returns the text of a scalar node; a null is "".
func scalar(n *yaml.Node) (string, bool) {
	if n == nil || n.Kind != yaml.ScalarNode {
		return "", false
	}
	if n.Tag == "!!null" {
		return "", true
	}
	return n.Value, true
}

// boolean reads a YAML boolean (true/false in any case).
func boolean(n *yaml.Node) (bool, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		return false, false
	}
	return b, true
}

// describe names a node's shape for an error ("a list", "a mapping").
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a single value"
}

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,39}$`)

// unknownKey is the problem of a key that is not one of known. The key is named when it
// looks like a name and is either close to a known one or has a value; otherwise (a key
// with spaces, a long one, a bare key without a value) it may be a value pasted without its
// field name, and it is described, not quoted.
func unknownKey(where string, p pair, of string, known []string) *registry.FieldError {
	bare := p.val == nil || (p.val.Kind == yaml.ScalarNode && p.val.Tag == "!!null")
	if !nameRE.MatchString(p.key) || (bare && suggest(p.key, known) == "") {
		field := strings.TrimSuffix(where, ".")
		if field == "" {
			field = "(key)"
		}
		return &registry.FieldError{Field: field, Reason: fmt.Sprintf("has a key of %d characters that is not a field name", len(p.key)) + map[bool]string{true: " and has no value", false: ""}[bare],
			Hint: "a value pasted without its field name? known fields: " + strings.Join(known, ", ")}
	}
	key := p.key
	fe := &registry.FieldError{Field: where + shorten(key), Reason: "is not a field of " + of}
	if s := suggest(key, known); s != "" {
		fe.Hint = fmt.Sprintf("did you mean %q? known fields: %s", s, strings.Join(known, ", "))
	} else if len(known) > 0 {
		fe.Hint = "known fields: " + strings.Join(known, ", ")
	}
	return fe
}

// shorten bounds a user-typed name for an error message and escapes what a terminal would
// interpret (the name is quoted with %q where it is shown as a value).
func shorten(s string) string {
	const maxRunes = 40
	if utf8.RuneCountInString(s) > maxRunes {
		r := []rune(s)
		s = string(r[:maxRunes]) + "..."
	}
	q := fmt.Sprintf("%q", s)
	if q[1:len(q)-1] == s {
		return s
	}
	return q
}
