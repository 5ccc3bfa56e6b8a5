package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/regcred/regcred/internal/atomicfile"
	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/sealed"
)

func init() {
	register(&command{
		name:    "export",
		usage:   "export --from DSN --out FILE|- [--keys FILE]",
		summary: "write a store's registries, secrets included, as a registries file (0600)",
		run:     runExport,
	})
}

// exportEntry is one registry in the registries file's shape (package registryfile).
type exportEntry struct {
	ID          string            `yaml:"id"`
	Name        string            `yaml:"name"`
	Type        string            `yaml:"type"`
	URL         string            `yaml:"url,omitempty"`
	Default     bool              `yaml:"default,omitempty"`
	Owner       string            `yaml:"owner,omitempty"`
	Credentials map[string]string `yaml:"credentials,omitempty"`
	TLS         *exportTLS        `yaml:"tls,omitempty"`
}

type exportTLS struct {
	Mode        string `yaml:"mode,omitempty"`
	CA          string `yaml:"ca,omitempty"`
	SystemRoots bool   `yaml:"systemRoots,omitempty"`
}

// readsAsReference matches values the registries file would not take literally.
var readsAsReference = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*\}$|^file:`)

// runExport writes every registry of the store as a registries file that import (and
// every regcred binary) reads back to the same records. The file holds real secrets: it
// is written atomically with mode 0600, or to stdout only when asked (--out -). What the
// file format cannot carry (a mirror relation, a value that would read as ${VAR} or
// file:) stops the export with an error naming the registry and field: nothing is lost
// silently.
func runExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "export")
	from := fs.String("from", "", "the store: sqlite:PATH, postgres://USER@HOST/DB, file:PATH (required)")
	out := fs.String("out", "", "the registries file to write (0600), or - for stdout (required)")
	var sf storeFlags
	fs.StringVar(&sf.keys, "keys", "", "master key file of a sealed store (default $"+sealed.EnvKeys+" when set)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || *out == "" {
		return usagef("--from and --out are required")
	}
	s, closeStore, err := openStore(ctx, e, *from, sf)
	if err != nil {
		return err
	}
	defer closeStore()
	regs, err := s.List(ctx)
	if err != nil {
		return err
	}
	entries := make([]exportEntry, 0, len(regs))
	for _, r := range regs {
		en, err := exportOf(r)
		if err != nil {
			return err
		}
		entries = append(entries, en)
	}
	var buf bytes.Buffer
	buf.WriteString("# regcred registries, exported from a store. It holds real secrets: keep it 0600.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(map[string]any{"registries": entries}); err != nil {
		return err
	}
	enc.Close()
	if *out == "-" {
		_, err := e.stdout.Write(buf.Bytes())
		return err
	}
	if err := atomicfile.Write(*out, buf.Bytes()); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintf(e.stderr, "exported %d registries to %s\n", len(entries), *out)
	return nil
}

func exportOf(r registry.Registry) (exportEntry, error) {
	name := untrusted.Text(r.Name)
	if r.Mirror != nil {
		return exportEntry{}, fmt.Errorf("registry %s is a mirror of %s: the registries file has no mirror settings yet; export stopped so nothing is lost", name, untrusted.Text(r.Mirror.Of))
	}
	en := exportEntry{ID: r.ID, Name: r.Name, Type: string(r.Kind), URL: r.Server, Default: r.Default, Owner: r.Owner}
	keys := make([]string, 0, len(r.Fields))
	for k := range r.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := r.Fields[k]
		if v == "" {
			continue
		}
		if readsAsReference.MatchString(v) {
			return exportEntry{}, fmt.Errorf("registry %s: field %s holds a value that a registries file reads as a reference (${VAR} or file:...); export stopped so it is not changed on import", name, k)
		}
		if en.Credentials == nil {
			en.Credentials = map[string]string{}
		}
		en.Credentials[k] = v
	}
	if r.TLS != (registry.TLS{}) {
		if strings.HasPrefix(r.TLS.CABundle, "file:") {
			return exportEntry{}, fmt.Errorf("registry %s: tls.ca starts with file:; export stopped", name)
		}
		en.TLS = &exportTLS{Mode: string(r.TLS.Mode), CA: r.TLS.CABundle, SystemRoots: r.TLS.SystemRoots}
	}
	return en, nil
}
