-- regcred schema version 2 (SQLite): the change log (registry.Journal). Each audited write
-- adds its entry in the same transaction as the record; seq only grows, in commit order
-- (one writer at a time). Entries hold names of fields, never values. Kept until the
-- platform prunes it (DELETE FROM regcred_audit WHERE seq <= ...).
CREATE TABLE regcred_audit (
    seq     INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    at      TEXT    NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    id      TEXT    NOT NULL,
    name    TEXT    NOT NULL,
    version INTEGER NOT NULL,
    fields  TEXT    NOT NULL
);
