package nodeconfig

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// ContainerdConfigFile is where containerd reads its own configuration.
const ContainerdConfigFile = "/etc/containerd/config.toml"

// hostsTable is one [host."URL"] table of a hosts.toml, and the root table's TLS keys.
// See containerd's docs/hosts.md.
type hostsTable struct {
	Capabilities []string `toml:"capabilities,omitempty"`
	CA           string   `toml:"ca,omitempty"`
	SkipVerify   bool     `toml:"skip_verify,omitempty"`
	OverridePath bool     `toml:"override_path,omitempty"`
}

// hostsRoot is a hosts.toml's root table: the server, tried after the hosts, with the
// same keys as a host table.
type hostsRoot struct {
	Server string `toml:"server"`
	hostsTable
}

// genContainerd writes one hosts.toml per host that needs one (mirrors, a CA, insecure),
// with the CA files beside it, and sets config_path in containerd's config.toml.
//
// Layout: <config_path>/<host[:port]>/hosts.toml. The mirrors are [host."URL"] tables,
// tried in order; the server (the root table) is tried last. Each endpoint appears once:
// containerd's loaders (1.6 to 2.x) append the server after the [host] tables, so a
// server also listed as a host would be tried twice. Without fallback the server is the
// upstream with capabilities = ["push"]: containerd never pulls or resolves from it. A
// host without mirrors is the server alone, with an empty [host] table: containerd 1.6
// and 1.7 (go-toml v1) reject a hosts.toml without one, and cannot read a table name
// with "]" in it (an IPv6 literal), which a server URL, a string, does not need. CA paths
// are relative to the hosts.toml, which containerd resolves against its directory, so
// the tree can be copied or used with ctr --hosts-dir as it is.
func genContainerd(c *config, v *view, p *Plan) error {
	wrote := false
	for _, h := range v.sortedHosts() {
		// A verified registry on loopback needs its hosts.toml too: without one,
		// containerd tries it with skip-verify, then plain http.
		if len(h.mirrors) == 0 && !h.self.needsConfig() && !(h.self.reg != nil && loopback(h.host)) {
			continue
		}
		dir := path.Join(c.containerdCerts, h.host)
		var pieces [][]byte
		caFiles := map[string][]byte{}
		table := func(e *endpoint, caps []string) (string, hostsTable) {
			t := hostsTable{Capabilities: caps, SkipVerify: e.skipVerify()}
			if e.ca != nil {
				t.CA = caFileName(h.host, e)
				caFiles[t.CA] = e.ca
			}
			u := e.url()
			// A mirror inside a project (Harbor proxy cache) has its API root there; the
			// path of the host's own record only scopes its credentials.
			if e != h.self && e.server.Path != "" {
				u += "/v2/" + e.server.Path
				t.OverridePath = true
			}
			return u, t
		}
		for _, e := range h.mirrors {
			u, t := table(e, []string{"pull", "resolve"})
			if strings.Contains(u, "]") {
				p.Warnings = append(p.Warnings, fmt.Sprintf("mirror %q of %s is an IPv6 address (%s): containerd 1.6 and 1.7 cannot read a hosts.toml naming it and ignore the whole file (mirrors, CA and TLS settings of %s); containerd 2.x reads it. Give the mirror a DNS name for older nodes", e.name(), h.host, e.server.Host, h.host))
			}
			b, err := toml.Marshal(map[string]map[string]hostsTable{"host": {u: t}})
			if err != nil {
				return err
			}
			// Each piece opens with an empty "[host]" header; TOML forbids defining a table
			// twice, and the dotted headers create it anyway.
			pieces = append(pieces, bytes.TrimPrefix(b, []byte("[host]\n")))
		}
		u, t := table(h.self, nil)
		if len(h.mirrors) > 0 && !h.fallback {
			t.Capabilities = []string{"push"}
		}
		head, err := toml.Marshal(hostsRoot{Server: u, hostsTable: t})
		if err != nil {
			return err
		}
		doc := append(head, '\n')
		if len(pieces) == 0 {
			doc = append(doc, "# no mirrors: the server alone (containerd 1.6 and 1.7 need this table, even empty)\n[host]\n"...)
		}
		doc = append(doc, bytes.Join(pieces, []byte("\n"))...)
		p.Files = append(p.Files, File{Path: path.Join(dir, "hosts.toml"), Data: doc, Mode: 0o644})
		for name, ca := range caFiles {
			p.Files = append(p.Files, File{Path: path.Join(dir, name), Data: ca, Mode: 0o644})
		}
		wrote = true
	}
	if !wrote {
		return nil
	}
	f, note, err := containerdConfigPath(c)
	if err != nil {
		return &Error{Runtime: Containerd, Registry: ContainerdConfigFile, Err: err}
	}
	if f != nil {
		p.Files = append(p.Files, *f)
		p.Notes = append(p.Notes, "restart containerd to read config_path ("+c.containerdCerts+"); hosts.toml changes after that need no restart")
	}
	if note != "" {
		p.Warnings = append(p.Warnings, note)
	}
	return nil
}

// caFileName is the CA file of endpoint e inside host's directory: ca.crt for the host's
// own server, the mirror's host (":" as "_") for a mirror's.
func caFileName(host string, e *endpoint) string {
	if e.server.Host == host || (e.reg == nil) {
		return "ca.crt"
	}
	return strings.ReplaceAll(e.server.Host, ":", "_") + ".crt"
}

// containerdConfigPath merges config_path into containerd's config.toml: nil when it is
// already there. The CRI plugin ignores hosts.toml files without it. The table depends on
// the file's version: 1 (containerd 1.x without "version"), 2 (1.5 to 1.7) or 3 (2.x).
// An existing value is kept after ours ("ours:theirs"), as containerd reads a
// colon-separated list. Comments in the file are not kept (a warning says so).
func containerdConfigPath(c *config) (*File, string, error) {
	old, mode, err := c.node.read(ContainerdConfigFile)
	if err != nil {
		return nil, "", err
	}
	doc := map[string]any{}
	if old != nil {
		if err := toml.Unmarshal(old, &doc); err != nil {
			return nil, "", fmt.Errorf("%w: cannot parse it as TOML (%v); fix it, then run again", ErrInvalid, err)
		}
	} else {
		mode = 0o644
		doc["version"] = int64(2)
	}
	var plugin string
	switch ver := doc["version"].(type) {
	case nil:
		plugin = "cri"
	case int64:
		switch ver {
		case 1:
			plugin = "cri"
		case 2:
			plugin = "io.containerd.grpc.v1.cri"
		case 3:
			plugin = "io.containerd.cri.v1.images"
		default:
			return nil, "", fmt.Errorf("%w: version %d is not one regcred knows (1, 2 or 3)", ErrInvalid, ver)
		}
	default:
		return nil, "", fmt.Errorf("%w: version is not a number", ErrInvalid)
	}
	reg, err := subtable(doc, "plugins", plugin, "registry")
	if err != nil {
		return nil, "", err
	}
	if m, ok := reg["mirrors"].(map[string]any); ok && len(m) > 0 {
		return nil, "", fmt.Errorf("%w: plugins.%q.registry.mirrors is set, and containerd refuses it together with config_path: move those mirrors into the catalog (or hosts.toml files) and remove the table", ErrInvalid, plugin)
	}
	if cfgs, ok := reg["configs"].(map[string]any); ok {
		for host, v := range cfgs {
			if t, ok := v.(map[string]any); ok && t["tls"] != nil {
				return nil, "", fmt.Errorf("%w: plugins.%q.registry.configs.%q.tls is set, and containerd refuses it together with config_path: give that registry its CA or TLS mode in the catalog and remove the tls table", ErrInvalid, plugin, bound(host))
			}
		}
	}
	want := c.containerdCerts
	switch cur := reg["config_path"].(type) {
	case nil:
	case string:
		for _, d := range strings.Split(cur, ":") {
			if path.Clean(d) == want {
				return nil, "", nil
			}
		}
		if cur != "" {
			want += ":" + cur
		}
	default:
		return nil, "", fmt.Errorf("%w: plugins.%q.registry.config_path is not a string", ErrInvalid, plugin)
	}
	reg["config_path"] = want
	b, err := toml.Marshal(doc)
	if err != nil {
		return nil, "", err
	}
	warn := ""
	if bytes.Contains(old, []byte("#")) {
		warn = ContainerdConfigFile + " is rewritten to set config_path: its settings are kept, its comments and key order are not"
	}
	return &File{Path: ContainerdConfigFile, Data: b, Mode: mode, Merged: old != nil, redact: redactTOML}, warn, nil
}

// subtable walks (creating) nested tables of a decoded TOML document.
func subtable(doc map[string]any, keys ...string) (map[string]any, error) {
	cur := doc
	for i, k := range keys {
		next, ok := cur[k]
		if !ok {
			m := map[string]any{}
			cur[k] = m
			cur = m
			continue
		}
		m, ok := next.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: %s is not a table", ErrInvalid, strings.Join(keys[:i+1], "."))
		}
		cur = m
	}
	return cur, nil
}
