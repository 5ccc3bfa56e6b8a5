package nodeconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Docker Engine's files.
const (
	DockerDaemonJSON = "/etc/docker/daemon.json"
	DockerCertsDir   = "/etc/docker/certs.d"
)

// genDocker sets registry-mirrors (Docker Hub's mirrors: the only ones dockerd has) and
// insecure-registries in daemon.json, merged into the existing file with every other key
// kept, and writes certs.d/<host[:port]>/ca.crt for registries and mirrors with a CA.
func genDocker(c *config, v *view, p *Plan) error {
	var mirrors, insecure []string
	addInsecure := func(e *endpoint) {
		if e.insecure() && !slices.Contains(insecure, e.server.Host) {
			insecure = append(insecure, e.server.Host)
			if e.skipVerify() {
				p.Warnings = append(p.Warnings, fmt.Sprintf("registry %q (%s) skips TLS verification, and dockerd (insecure-registries) then also retries it over plain http when https fails: save it with http:// if it speaks only http, or give its CA instead", e.name(), e.server.Host))
			}
		}
	}
	certs := map[string][]byte{}
	addCA := func(e *endpoint) {
		if e.ca != nil {
			certs[e.server.Host] = e.ca
		}
	}
	for _, h := range v.sortedHosts() {
		if h.self.reg != nil {
			addInsecure(h.self)
			addCA(h.self)
			if loopback(h.self.server.Host) && !h.self.insecure() {
				p.Warnings = append(p.Warnings, fmt.Sprintf("registry %q (%s) is on loopback, which dockerd always treats as insecure: it skips TLS verification there and retries over plain http, and daemon.json cannot change that", h.self.name(), h.self.server.Host))
			}
		}
		for _, m := range h.mirrors {
			addInsecure(m)
			addCA(m)
		}
		if len(h.mirrors) == 0 {
			continue
		}
		if h.host != "docker.io" {
			p.Warnings = append(p.Warnings, fmt.Sprintf("dockerd mirrors Docker Hub only: the mirrors of %s are not used by Docker Engine (pulls go to %s itself)", h.host, h.host))
			continue
		}
		for _, m := range h.mirrors {
			if m.server.Path != "" {
				p.Warnings = append(p.Warnings, fmt.Sprintf("mirror %q is inside a project (%s): dockerd takes only a mirror at a registry's root, so it is left out of registry-mirrors", m.name(), m.server))
				continue
			}
			mirrors = append(mirrors, m.url())
		}
		if !h.fallback {
			p.Warnings = append(p.Warnings, "dockerd always falls back to Docker Hub when its mirrors fail; fallback off cannot be enforced by Docker Engine")
		}
	}
	for host, ca := range certs {
		p.Files = append(p.Files, File{Path: path.Join(DockerCertsDir, host, "ca.crt"), Data: ca, Mode: 0o644})
	}
	if len(mirrors) == 0 && len(insecure) == 0 {
		return nil
	}
	f, kept, err := mergeDaemonJSON(c, map[string][]string{"registry-mirrors": mirrors, "insecure-registries": insecure})
	if err != nil {
		return &Error{Runtime: Docker, Registry: DockerDaemonJSON, Err: err}
	}
	for _, k := range kept {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s keeps %s, which is not in the catalog; remove it by hand if it is stale", DockerDaemonJSON, k))
	}
	if f != nil {
		p.Files = append(p.Files, *f)
		p.Notes = append(p.Notes, "reload dockerd (SIGHUP, or systemctl reload docker) to apply registry-mirrors and insecure-registries; certs.d is read at each pull")
	}
	return nil
}

// mergeDaemonJSON sets each key of lists in daemon.json: regcred's entries first, in
// order, then the file's own entries that regcred did not generate (kept, and reported in
// kept). Every other key keeps its value and its place. It returns nil when nothing
// changes.
func mergeDaemonJSON(c *config, lists map[string][]string) (f *File, kept []string, err error) {
	old, mode, err := c.node.read(DockerDaemonJSON)
	if err != nil {
		return nil, nil, err
	}
	obj, err := decodeObject(old)
	if err != nil {
		return nil, nil, err
	}
	changed := false
	for _, key := range []string{"registry-mirrors", "insecure-registries"} {
		want := lists[key]
		if len(want) == 0 {
			continue
		}
		var cur []string
		if raw, ok := obj.vals[key]; ok {
			if err := json.Unmarshal(raw, &cur); err != nil {
				return nil, nil, fmt.Errorf("%w: %q is not a list of strings; fix it, then run again", ErrInvalid, key)
			}
		}
		merged := slices.Clone(want)
		for _, e := range cur {
			if !slices.ContainsFunc(merged, func(w string) bool { return sameDockerEntry(w, e) }) {
				merged = append(merged, e)
				kept = append(kept, fmt.Sprintf("%s entry %q", key, bound(redactURL(e))))
			}
		}
		if slices.Equal(merged, cur) {
			continue
		}
		changed = true
		if err := obj.set(key, merged); err != nil {
			return nil, nil, err
		}
	}
	if !changed {
		return nil, kept, nil
	}
	b, err := obj.encode()
	if err != nil {
		return nil, nil, err
	}
	if old == nil {
		mode = 0o644
	}
	return &File{Path: DockerDaemonJSON, Data: b, Mode: mode, Merged: old != nil, redact: redactJSON}, kept, nil
}

// sameDockerEntry compares daemon.json entries the way dockerd normalizes them: scheme
// and trailing slash do not matter for insecure registries, a trailing slash does not for
// mirrors.
func sameDockerEntry(a, b string) bool {
	norm := func(s string) string {
		return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "/")
	}
	return norm(a) == norm(b)
}

// jsonObject is a JSON object that keeps its keys' order and their values' bytes, so a
// merge changes only what it sets.
type jsonObject struct {
	keys []string
	vals map[string]json.RawMessage
}

func decodeObject(b []byte) (*jsonObject, error) {
	o := &jsonObject{vals: map[string]json.RawMessage{}}
	if len(bytes.TrimSpace(b)) == 0 {
		return o, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	bad := func(err error) error {
		return fmt.Errorf("%w: not a JSON object (%v); fix it, then run again", ErrInvalid, err)
	}
	t, err := dec.Token()
	if err != nil {
		return nil, bad(err)
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, bad(fmt.Errorf("starts with %v", t))
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, bad(err)
		}
		k := t.(string) // keys of an object are strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, bad(err)
		}
		if _, dup := o.vals[k]; dup {
			return nil, bad(fmt.Errorf("key %q appears twice", bound(k)))
		}
		o.keys = append(o.keys, k)
		o.vals[k] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad(err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, bad(fmt.Errorf("text after the object"))
	}
	return o, nil
}

func (o *jsonObject) set(k string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = b
	return nil
}

// encode writes the object indented by two spaces, with a final newline.
func (o *jsonObject) encode() ([]byte, error) {
	var flat bytes.Buffer
	flat.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			flat.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		flat.Write(kb)
		flat.WriteByte(':')
		flat.Write(o.vals[k])
	}
	flat.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, flat.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
