package registry

import (
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/regcred/regcred/internal/untrusted"
)

// Scope limits who may use a registry: some teams, projects or Kubernetes namespaces (as
// Rancher and Portainer scope theirs). The zero Scope allows everyone. Each list that is
// set must be satisfied: a registry scoped to teams ["payments"] and namespaces
// ["prod-*"] serves a payments member deploying into prod-eu, and nobody else. Entries
// are names or path.Match patterns ("team-*").
//
// The Catalog honours it: KeychainFor and ListFor give only what a Subject may use; the
// adapters that deploy per namespace ask Allows with the namespace.
type Scope struct {
	Teams      []string `json:"teams,omitempty"`
	Projects   []string `json:"projects,omitempty"`
	Namespaces []string `json:"namespaces,omitempty"`
}

// Subject is who wants to use a registry: the user's teams, the project and the namespace
// of the deployment. Leave out what does not apply; a scope that limits a dimension the
// subject leaves out does not allow it.
type Subject struct {
	Teams     []string
	Project   string
	Namespace string
}

// IsZero reports whether s limits nothing.
func (s Scope) IsZero() bool {
	return len(s.Teams) == 0 && len(s.Projects) == 0 && len(s.Namespaces) == 0
}

// Allows reports whether sub may use a registry with scope s.
func (s Scope) Allows(sub Subject) bool {
	if len(s.Teams) > 0 && !slices.ContainsFunc(sub.Teams, func(t string) bool { return matchAny(s.Teams, t) }) {
		return false
	}
	if len(s.Projects) > 0 && !matchAny(s.Projects, sub.Project) {
		return false
	}
	if len(s.Namespaces) > 0 && !matchAny(s.Namespaces, sub.Namespace) {
		return false
	}
	return true
}

func matchAny(patterns []string, name string) bool {
	if name == "" {
		return false
	}
	for _, p := range patterns {
		if ok, err := path.Match(p, name); ok && err == nil {
			return true
		}
	}
	return false
}

// Clone returns a deep copy.
func (s Scope) Clone() Scope {
	return Scope{Teams: slices.Clone(s.Teams), Projects: slices.Clone(s.Projects), Namespaces: slices.Clone(s.Namespaces)}
}

// Validate checks every entry: not blank, no surrounding space, a valid pattern. Errors
// are *FieldError naming "scope.teams", "scope.projects" or "scope.namespaces".
func (s Scope) Validate() error {
	for _, list := range []struct {
		field   string
		entries []string
	}{{"scope.teams", s.Teams}, {"scope.projects", s.Projects}, {"scope.namespaces", s.Namespaces}} {
		for _, e := range list.entries {
			switch {
			case strings.TrimSpace(e) == "":
				return &FieldError{Field: list.field, Reason: "has a blank entry", Hint: "remove it, or leave the list empty to allow everyone"}
			case strings.TrimSpace(e) != e:
				return &FieldError{Field: list.field, Reason: "entry " + quoteBounded(e) + " has surrounding spaces"}
			}
			if _, err := path.Match(e, ""); err != nil {
				return &FieldError{Field: list.field, Reason: "entry " + quoteBounded(e) + " is not a valid pattern", Hint: "use names, or * and ? wildcards"}
			}
		}
	}
	return nil
}

// quoteBounded quotes user-typed text for an error message, bounded and escaped.
func quoteBounded(s string) string { return strconv.Quote(untrusted.Limit(s, 64)) }
