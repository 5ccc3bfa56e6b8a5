// Package store opens a registry.Store from a DSN, in one place, for platforms and the
// regcred CLI:
//
//	file:/var/lib/app/registries.json    file.Store (built in)
//	memory:                              memory.Store (built in)
//	sqlite:/var/lib/app/regcred.db       store/sqlite (import it; sqlite:file:/PATH too)
//	postgres://user@host/db?sslmode=...  store/postgres (import it; postgresql:// too)
//
// Drivers register themselves when their package is imported, as database/sql drivers do:
//
//	import _ "github.com/regcred/regcred/store/sqlite"
//
//	s, err := store.Open(ctx, "sqlite:/var/lib/app/regcred.db")
//	if err != nil { ... }
//	defer s.Close()
//	catalog := catalog.New(s)
//
// A platform that does not import a driver does not compile it: this package depends on
// registry and the standard library only, and neither registry nor this package imports
// a driver (a test guards both). A DSN whose scheme has no driver is an error that names
// the package to import.
//
// A platform that already has a database handle skips the DSN: sqlite.New takes its
// *sql.DB, postgres.New its *pgxpool.Pool. To keep secrets sealed at rest, wrap the opened
// store with store/sealed.
//
// The store returned keeps the optional interfaces of the one the driver opened
// (registry.Watcher, registry.Rewriter): Open returns the driver's own value.
package store
