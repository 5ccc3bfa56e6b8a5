package kube

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/regcred/regcred/registry"
)

// ScopeLabels names the namespace labels that say which team and which project a
// namespace belongs to, so a registry's Scope (teams, projects, namespaces) decides where
// its pull Secret goes. The keys are the operator's choice (for example
// "regcred.io/team" and "regcred.io/project"); a key left empty maps nothing.
//
// The rule is Scope.Allows with the namespace as the Subject: its name, the team its team
// label names and the project its project label names. Every list the Scope sets must be
// satisfied, so a registry scoped to teams gets no Secret in a namespace without a team
// label, nor anywhere when no team label key is configured: an unmapped scope fails
// closed.
//
// Risk: whoever may set labels on a namespace may claim a team or a project, and with it
// the pull Secrets (passwords included) of the registries scoped to it. Choose keys that
// tenants cannot set on their own namespaces (label namespaces from the platform, and deny
// tenants the patch and update verbs on namespaces, or guard the keys with an admission
// policy), or scope registries by namespace patterns only.
type ScopeLabels struct {
	Team    string // the label whose value is the namespace's team
	Project string // the label whose value is the namespace's project
}

// Subject is ns as a Scope sees it: its name, team and project.
func (l ScopeLabels) Subject(ns *corev1.Namespace) registry.Subject {
	sub := registry.Subject{Namespace: ns.Name}
	if l.Team != "" {
		if t := ns.Labels[l.Team]; t != "" {
			sub.Teams = []string{t}
		}
	}
	if l.Project != "" {
		sub.Project = ns.Labels[l.Project]
	}
	return sub
}

// Allows reports whether a registry with scope s may have its pull Secret in namespace ns.
// The Syncer and the controller decide with it.
func (l ScopeLabels) Allows(s registry.Scope, ns *corev1.Namespace) bool {
	return s.Allows(l.Subject(ns))
}

// needsLabels reports whether deciding s needs the namespace's labels.
func needsLabels(s registry.Scope) bool { return len(s.Teams) > 0 || len(s.Projects) > 0 }
