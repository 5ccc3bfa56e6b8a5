package registry

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Mirror makes a registry a mirror (a pull-through cache such as a Harbor proxy-cache
// project or a docker-registry in proxy mode) of another registry. Node configuration
// (containerd, Docker, CRI-O, k3s; package nodeconfig) is generated from it: nodes pull the
// upstream's images from the mirrors first, in Order, and from the upstream itself only
// when Fallback is set.
//
// A record's Validate checks the mirror on its own (validate); ValidateMirrors checks it
// against every saved registry (unknown upstreams, loops, disagreeing fallbacks).
type Mirror struct {
	// Of is the upstream: another saved registry's ID ("reg-3f2a...", "my-harbor"), or a
	// registry host ("docker.io", "registry.k8s.io", "quay.io:443"). A saved registry's ID
	// wins over a host of the same spelling; a host needs a dot, a port or "localhost", so a
	// mistyped ID is reported as unknown rather than taken for a host.
	Of string `json:"of"`
	// Order ranks several mirrors of one upstream: lower first; ties go by ID.
	Order int `json:"order,omitempty"`
	// Fallback lets nodes pull from the upstream itself when every mirror fails. Off, the
	// upstream is never contacted (air-gapped nodes, policy): containerd and CRI-O honour
	// that; Docker Engine always falls back for Docker Hub, and k3s only with its
	// disable-default-registry-endpoint setting (nodeconfig warns). Every mirror of one
	// upstream must agree.
	Fallback bool `json:"fallback,omitempty"`
}

// validate checks what a mirror record can check alone: an upstream is named and spelled
// like an ID or a host without a path, the order is not negative, and the record has one
// concrete host of its own that is not the upstream.
func (m *Mirror) validate(own Server) error {
	of := strings.TrimSpace(m.Of)
	switch {
	case of == "":
		return &FieldError{Field: "mirror.of", Reason: "is empty", Hint: "name the upstream this registry mirrors: a host such as docker.io, or a saved registry's ID"}
	case of != m.Of || strings.ContainsAny(of, " \t\r\n"):
		return &FieldError{Field: "mirror.of", Reason: "contains whitespace"}
	case m.Order < 0:
		return &FieldError{Field: "mirror.order", Reason: "is negative", Hint: "0 is tried first, then 1, 2, ..."}
	case own.Wildcard:
		return &FieldError{Field: "url", Reason: "a mirror needs one host, not a wildcard", Hint: "give the mirror's own host, e.g. harbor.example.com"}
	}
	if looksLikeHost(of) {
		up, err := parseUpstream(of)
		if err != nil {
			return err
		}
		if up == own.Host {
			return &FieldError{Field: "mirror.of", Reason: "is the registry's own host " + strconv.Quote(own.Host), Hint: "a registry cannot mirror itself"}
		}
	}
	return nil
}

// looksLikeHost reports whether s is spelled like a registry host (the rule image
// references use for their first component): a dot, a port, or localhost.
func looksLikeHost(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	hostport, _, _ := strings.Cut(s, "/")
	return strings.ContainsAny(hostport, ".:") || hostport == "localhost" || strings.HasPrefix(hostport, "[")
}

// parseUpstream parses a mirror's upstream host: no path, no wildcard; Docker Hub's
// spellings all read docker.io.
func parseUpstream(of string) (string, error) {
	s, err := ParseServer(of)
	if err != nil {
		if fe, ok := err.(*FieldError); ok { // ParseServer names "url"; here it is mirror.of
			return "", &FieldError{Field: "mirror.of", Reason: fe.Reason, Hint: fe.Hint}
		}
		return "", err
	}
	if s.Path != "" {
		return "", &FieldError{Field: "mirror.of", Reason: "has a path " + strconv.Quote(s.Path), Hint: "nodes mirror whole registries: give the upstream host only, e.g. docker.io"}
	}
	if s.Wildcard {
		return "", &FieldError{Field: "mirror.of", Reason: "is a wildcard", Hint: "give one upstream host"}
	}
	return CanonicalHost(s.Host), nil
}

// Upstream is what a mirror's Of names, resolved against the saved registries.
type Upstream struct {
	Host     string    // "docker.io", "registry.example.com:5000": the node-side key
	Registry *Registry // the saved registry Of names by ID; nil for a plain host
}

// ResolveUpstream resolves m.Of against all: the saved registry with that ID, else the
// host it spells. An Of that is neither fails with a *FieldError for "mirror.of".
func (m *Mirror) ResolveUpstream(all []Registry) (Upstream, error) {
	for i := range all {
		if all[i].ID == m.Of {
			s, err := all[i].ServerInfo()
			if err != nil {
				return Upstream{}, &FieldError{Field: "mirror.of", Reason: "names registry " + strconv.Quote(all[i].Name) + " whose url is invalid: " + err.Error()}
			}
			if s.Wildcard {
				return Upstream{}, &FieldError{Field: "mirror.of", Reason: "names registry " + strconv.Quote(all[i].Name) + ", whose host is a wildcard", Hint: "a mirror mirrors one host"}
			}
			return Upstream{Host: CanonicalHost(s.Host), Registry: &all[i]}, nil
		}
	}
	if !looksLikeHost(m.Of) {
		ids := make([]string, 0, len(all))
		for _, r := range all {
			if r.ID != "" {
				ids = append(ids, r.ID)
			}
		}
		hint := "give a saved registry's ID or an upstream host such as docker.io"
		if len(ids) > 0 {
			sort.Strings(ids)
			if len(ids) > 8 {
				ids = append(ids[:8], "...")
			}
			hint += "; saved IDs: " + strings.Join(ids, ", ")
		}
		return Upstream{}, &FieldError{Field: "mirror.of", Reason: "names an unknown registry " + strconv.Quote(m.Of), Hint: hint}
	}
	host, err := parseUpstream(m.Of)
	if err != nil {
		return Upstream{}, err
	}
	return Upstream{Host: host}, nil
}

// MirrorError is a mirror problem found across records: which registry, and what.
// errors.Is(err, ErrInvalid) holds.
type MirrorError struct {
	Registry string // the mirror's name (or ID)
	Err      error  // a *FieldError
}

func (e *MirrorError) Error() string {
	return "registry " + strconv.Quote(e.Registry) + ": " + e.Err.Error()
}
func (e *MirrorError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *MirrorError) Is(target error) bool { return target == ErrInvalid }

// ValidateMirrors checks the mirrors among all saved registries together: every Of names a
// saved registry or a host, no chain of mirrors leads back to where it started (a loop:
// nodes would send pulls in a circle), and the mirrors of one upstream agree on Fallback.
// Chains without a loop are allowed (a mirror of a mirror); each level is configured on
// its own. It returns the first problem, in the order of all, as a *MirrorError.
func ValidateMirrors(all []Registry) error {
	type edge struct {
		from, to string // hosts
		name     string
	}
	var edges []edge
	fallback := map[string]*Registry{} // upstream host -> first mirror seen
	for i := range all {
		r := &all[i]
		if r.Mirror == nil {
			continue
		}
		name := r.Name
		if name == "" {
			name = r.ID
		}
		own, err := r.ServerInfo()
		if err != nil {
			return &MirrorError{Registry: name, Err: err}
		}
		if err := r.Mirror.validate(own); err != nil {
			return &MirrorError{Registry: name, Err: err}
		}
		up, err := r.Mirror.ResolveUpstream(all)
		if err != nil {
			return &MirrorError{Registry: name, Err: err}
		}
		if up.Registry != nil && up.Registry.ID == r.ID {
			return &MirrorError{Registry: name, Err: &FieldError{Field: "mirror.of", Reason: "names the registry itself", Hint: "a registry cannot mirror itself"}}
		}
		if up.Host == CanonicalHost(own.Host) {
			return &MirrorError{Registry: name, Err: &FieldError{Field: "mirror.of", Reason: "is the registry's own host " + strconv.Quote(own.Host), Hint: "a registry cannot mirror itself"}}
		}
		if first, ok := fallback[up.Host]; ok && first.Mirror.Fallback != r.Mirror.Fallback {
			return &MirrorError{Registry: name, Err: &FieldError{Field: "mirror.fallback",
				Reason: fmt.Sprintf("is %t but %q, another mirror of %s, says %t", r.Mirror.Fallback, first.Name, up.Host, first.Mirror.Fallback),
				Hint:   "set fallback the same on every mirror of " + up.Host}}
		} else if !ok {
			fallback[up.Host] = r
		}
		edges = append(edges, edge{from: CanonicalHost(own.Host), to: up.Host, name: name})
	}
	// A loop: following "is a mirror of" from a host comes back to it.
	next := map[string][]edge{}
	for _, e := range edges {
		next[e.from] = append(next[e.from], e)
	}
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []edge
	var visit func(host string) error
	visit = func(host string) error {
		state[host] = onPath
		for _, e := range next[host] {
			path = append(path, e)
			switch state[e.to] {
			case onPath:
				start := 0
				for i, p := range path {
					if p.from == e.to {
						start = i
						break
					}
				}
				hops := []string{path[start].from}
				for _, p := range path[start:] {
					hops = append(hops, p.to)
				}
				return &MirrorError{Registry: path[start].name, Err: &FieldError{Field: "mirror.of",
					Reason: "makes a loop of mirrors: " + strings.Join(hops, " -> "),
					Hint:   "a mirror cannot, through other mirrors, mirror itself: remove one link"}}
			case unseen:
				if err := visit(e.to); err != nil {
					return err
				}
			}
			path = path[:len(path)-1]
		}
		state[host] = done
		return nil
	}
	for _, e := range edges {
		if state[e.from] == unseen {
			if err := visit(e.from); err != nil {
				return err
			}
		}
	}
	return nil
}
