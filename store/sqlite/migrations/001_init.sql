-- regcred schema version 1 (SQLite). The same version exists for PostgreSQL in
-- store/postgres/migrations/001_init.sql.

-- One row per saved registry: its stored form (registry.MarshalStored, or the sealed form
-- when store/sealed wraps the store) and its version, for the optimistic-concurrency rule.
CREATE TABLE regcred_registries (
    id         TEXT    NOT NULL PRIMARY KEY,
    version    INTEGER NOT NULL CHECK (version >= 1),
    record     TEXT    NOT NULL,
    updated_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- The change feed: every committed put (a new version) and delete, in commit order (SQLite
-- has one writer at a time, so AUTOINCREMENT order is commit order). Watchers in any
-- process poll it by sequence. A rewrite at the same version is not a change.
CREATE TABLE regcred_changes (
    seq     INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    op      TEXT    NOT NULL CHECK (op IN ('put', 'delete')),
    id      TEXT    NOT NULL,
    version INTEGER NOT NULL
);

CREATE TRIGGER regcred_registries_insert AFTER INSERT ON regcred_registries
BEGIN
    INSERT INTO regcred_changes (op, id, version) VALUES ('put', NEW.id, NEW.version);
END;

CREATE TRIGGER regcred_registries_update AFTER UPDATE ON regcred_registries
WHEN OLD.version <> NEW.version OR OLD.id <> NEW.id
BEGIN
    INSERT INTO regcred_changes (op, id, version) VALUES ('put', NEW.id, NEW.version);
END;

CREATE TRIGGER regcred_registries_delete AFTER DELETE ON regcred_registries
BEGIN
    INSERT INTO regcred_changes (op, id, version) VALUES ('delete', OLD.id, OLD.version);
END;

-- Each record's health (registry.HealthStore): beside the record, never bumping its version,
-- deleted with it.
CREATE TABLE regcred_health (
    id     TEXT NOT NULL PRIMARY KEY REFERENCES regcred_registries (id) ON DELETE CASCADE,
    health TEXT NOT NULL
);

CREATE TRIGGER regcred_registries_delete_health AFTER DELETE ON regcred_registries
BEGIN
    DELETE FROM regcred_health WHERE id = OLD.id;
END;
