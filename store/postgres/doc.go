// Package postgres is the registry.Store for platforms with several replicas: one
// PostgreSQL database shared by all, on pgx (github.com/jackc/pgx/v5).
//
// Rules:
//   - Open takes a DSN (postgres://USER@HOST:PORT/DB?sslmode=..., or pgx's key=value
//     form) and makes its own pool; New takes a platform's *pgxpool.Pool and leaves it
//     open on Close. regcred's tables are all named regcred_*. Import the package to
//     register the "postgres:" and "postgresql:" DSNs with store.Open. Errors never quote
//     the DSN (it may hold a password).
//   - Each write is one statement under the version rule of registry.Store (INSERT ... ON
//     CONFLICT DO NOTHING for a create, UPDATE ... WHERE version = v-1 for a replace), so
//     concurrent replicas never lose an update: the loser gets ErrConflict.
//   - The schema is versioned like store/sqlite's, with the same numbers: numbered SQL
//     files (migrations/001_init.sql, ...) embedded and applied in one transaction at open,
//     serialized across replicas by a transaction-level advisory lock. A database that a
//     newer regcred migrated further is refused with store.ErrNewerSchema.
//   - The change feed (registry.Watcher) is LISTEN/NOTIFY: a trigger announces every new
//     version and delete on the channel regcred_changes, delivered to every replica in
//     commit order; a rewrite at the same version and health writes announce nothing. One
//     listening connection per Store, outside the pool, with TCP keepalives and a ping
//     every 30 s of silence. When it drops, the listener reconnects (backing off to 5 s)
//     and sends every watcher a ChangeResync: what committed meanwhile was not heard.
//   - Leader election without Kubernetes: Acquire and TryAcquire take a named Lease, a
//     session-level advisory lock on a pinned connection, with a fencing number
//     (regcred_leases) that grows with every acquisition. A holder that exits frees it at
//     once; one that hangs or loses its network loses it TTL (10 s) after its last
//     heartbeat, because the session is set to end after TTL without a statement
//     (idle_session_timeout); a contender then gets it within TTL + its retry interval
//     (measured with a 2 s TTL and 100 ms retries: 2.13 s after the holder process was
//     stopped, 2.11 s after its network went silent). Fenced wraps the store so that
//     every record write checks the fencing number in its transaction: a deposed leader
//     that wakes up cannot write (ErrFenced).
//   - The change log (registry.Journal, migrations/002_audit.sql): an audited write adds
//     its registry.Audit entry to regcred_audit in the record's own transaction (fenced
//     too, through Fenced). Audited writers take a transaction-level advisory lock before
//     they draw a sequence number, so sequence order is commit order: a consumer that
//     resumes after the last sequence it handled (Catalog.Changes) never misses an entry
//     that committed late. Measured: a consumer restarted mid-stream of 1,000 changes by
//     two replicas lost 0 and handled 0 twice (TestChangesResumeAfterRestart).
//   - Records are stored with their real secrets (registry.MarshalStored): wrap the store
//     with store/sealed to keep them encrypted at rest, in the database and its dumps.
package postgres
