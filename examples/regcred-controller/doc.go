// Command regcred-controller keeps the pull Secrets of saved registries in every selected
// Kubernetes namespace and in their ServiceAccounts (package controller), as one leader
// among replicas.
//
//	regcred-controller --registries /etc/regcred/registries.yaml \
//	    --namespace-selector regcred.io/pull=enabled --leader-elect
//
// Flags:
//
//	--registries FILE          the registries file (package registryfile), read at start
//	--store DSN                or a store (file:, sqlite:, postgres: ...); followed live
//	--kubeconfig FILE          the cluster; in-cluster config when empty
//	--namespace-selector SEL   label selector of the namespaces served (default: all)
//	--team-label KEY           namespace label naming its team: a registry scoped to teams
//	                           gets its Secret only where it matches (without it: nowhere)
//	--project-label KEY        the same for projects
//
// Scope: a registry's Scope (teams, projects, namespace patterns) decides where its
// Secret goes (kube.ScopeLabels). Whoever may set the team or project label on a namespace
// may claim that team's Secrets, passwords included: label namespaces from the platform,
// deny tenants patch/update on namespaces (or guard the keys with an admission policy),
// or scope registries by namespace patterns only.
//
//	--service-accounts LIST    ServiceAccounts to patch (default "default"; "" for none)
//	--managed-by VALUE         the managed-by label value of the Secrets it owns
//	--prune=false              keep Secrets nobody wants any more
//	--docker-host HOST         also re-auth the Swarm services that use a saved registry
//	--leader-elect             one replica acts; Lease in --leader-elect-namespace
//	--listen ADDR              /healthz, /readyz, /metrics (default :8080)
//
// The manifests under deploy/ run it: a namespace, a ServiceAccount, least-privilege RBAC
// (rbac.yaml says why each rule is there), admission policies that hold its writes to its
// own pull Secrets (deploy/README.md says what reads remain) and a Deployment with two
// replicas. Apply them in that order, with a Secret "regcred-registries" holding
// registries.yaml. The tests apply the RBAC and the policies to a real kube-apiserver and
// run the controller with that ServiceAccount's token, and check the Deployment with a
// server-side dry run.
package main
