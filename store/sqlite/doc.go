// Package sqlite is the embedded registry.Store: one SQLite file, pure Go
// (modernc.org/sqlite, no cgo), for a platform on one machine.
//
// Rules:
//   - WAL mode and a busy timeout (WithBusyTimeout, 10 s): readers never wait for the
//     writer, and writers in several processes on one host take turns instead of failing.
//     Each write is one statement; its version check and its change-feed entry (a trigger)
//     commit together.
//   - The schema is versioned: numbered SQL files (migrations/001_init.sql, ...) embedded in
//     the binary and applied in one IMMEDIATE transaction when the store opens, so
//     concurrent openers wait and then find it current. A database that a newer regcred
//     migrated further is refused with store.ErrNewerSchema: upgrade first. The PostgreSQL
//     store keeps the same version numbers (store/postgres/migrations).
//   - The change feed (registry.Watcher) sees what any process writes: writes append to a
//     change table (by trigger, so even a platform's own SQL on regcred_registries is
//     seen) whose sequence is the commit order; a poller per watched Store checks PRAGMA
//     data_version every 25 ms (WithPollInterval; it reads no table) and reads what is
//     new when another connection committed. The table keeps the last 10,000 changes; a
//     watcher further behind gets a ChangeResync. Rewrite (same version) and health
//     writes are not changes.
//   - The file holds credentials: it is created 0600 (its WAL and shared-memory files take
//     the same mode) in a 0700 directory. Wrap the store with store/sealed to keep the
//     secret fields encrypted at rest.
//   - The change log (registry.Journal, migrations/002_audit.sql): an audited write
//     (PutAudited, DeleteAudited: what the Catalog makes) adds its registry.Audit entry to
//     regcred_audit in the record's own transaction; Changes reads it from a sequence.
//     It is kept until the platform prunes it.
//   - Versions and ChangeCount (registry.VersionLister, registry.ChangeCounter) read no
//     record: store/sealed lists redacted views from them without opening a secret.
//   - Open opens a file by path or a file: URI without query ("sqlite:file:/PATH" opens
//     /PATH); New takes a platform's own *sql.DB (its tables are all
//     named regcred_*). Import the package to register the "sqlite:" DSN with store.Open.
package sqlite
