// Package catalog is the Catalog of saved registries over a registry.Store: add, update
// (with registry.Merge's rules for a settings form), rotate, set the default, delete with
// guards (usage, mirrors), list redacted, test saved records and drafts
// (registry/conntest), and one cached provider per record version for every consumer
// (Provider, ProviderFactory, Keychain). Subscribe delivers change events from the store's
// change feed; health and consumers are recorded beside the records; Changes reads the
// durable change log (audit) of a store that keeps one.
//
// Rules:
//   - Everything it returns is redacted, except through Reveal (for export) and the
//     providers (for pulls): deployments use ProviderFactory, never Reveal.
//   - Writes are optimistic: an edit made from an older version fails with ErrConflict.
//     An edit that changes nothing writes nothing (no version, no event, no audit entry).
//   - A stored secret goes only to the endpoint it was saved for (registry.Merge): a draft
//     or an edit that moves the server, scheme, TLS mode or CA must carry the secret again.
//   - A Catalog is safe for concurrent use; Close stops its change feed.
//
// # Who may do what
//
// A Catalog built without WithAuthorizer serves one trusted operator: it checks nothing,
// whoever the context names. A platform with more than one user builds its Catalog
// WithAuthorizer(DefaultPolicy()) (or an Authorizer of its own) and passes every request's
// context through WithPrincipal. Then each operation needs its Action, an operation
// without a principal is refused, and a refusal is a *ForbiddenError (errors.Is
// registry.ErrForbidden) naming the action, never a value:
//
//	operation                            action
//	List, ListFor, Subscribe             list (each shows only what may be listed)
//	Get, Default, Health, ListHealth,    view
//	Expiring
//	Keychain, KeychainFor, Provider,     use (the Keychains hold only what may be used)
//	SetConsumers
//	Test, TestDraft of a saved record    test (a new record's draft: add)
//	Add                                  add (and set-default when it asks to be the
//	                                     default); the principal becomes its Owner
//	Update                               edit, rotate, scope, set-default: each that the
//	                                     edit really changes (rotate: a secret field or
//	                                     the kind; scope: Scope; set-default: Default;
//	                                     edit: anything else); an unchanged form: edit
//	SetDefault                           set-default
//	Delete                               delete
//	Reveal, RevealAll                    reveal (RevealAll: only what may be revealed)
//
// DefaultPolicy allows:
//
//	action       admin  owner  member  anyone else
//	list         yes    yes    yes     no
//	view         yes    yes    yes     no
//	use          yes    yes    yes     no
//	test         yes    yes    yes     no
//	add          yes    -      -       yes (a signed-in user; becomes the Owner)
//	edit         yes    yes    no      no
//	rotate       yes    yes    no      no
//	scope        yes    yes    no      no
//	set-default  yes    no     no      no
//	delete       yes    yes    no      no
//	reveal       yes    no     no      no
//
// "admin" holds RoleAdmin. "owner" is the record's Owner (a record saved without one is
// owned by the admins only). "member" is a principal the registry's Scope includes
// (Member): it shares one of Scope.Teams and one of Scope.Projects where those are set
// (namespaces are for deployments, not people); a registry with a zero Scope is shared
// with every signed-in user. Members may test because a test goes to the endpoint the
// record was saved for only. A principal without a User is anonymous and may do nothing.
//
// Trusted components (the controller, regcred sync, an export job) act in one of two
// ways: through a Catalog of their own built without an authorizer over the same Store
// (the way ProviderFactory is served, since a factory has no context; on a Watcher store
// both Catalogs see each other's writes), or with a context carrying a principal of their
// own that holds RoleAdmin (catalog.Principal{User: "system:controller", Roles:
// []string{catalog.RoleAdmin}}), which the audit log then names.
package catalog
