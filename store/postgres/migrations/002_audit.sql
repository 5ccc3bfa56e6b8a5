-- regcred schema version 2 (PostgreSQL): the change log (registry.Journal). Each audited
-- write adds its entry in the same transaction as the record. Writers take a
-- transaction-level advisory lock before they draw a seq, so seq order is commit order:
-- a reader that saw seq N never later finds an entry below N. Entries hold names of
-- fields, never values. Kept until the platform prunes it.
CREATE TABLE regcred_audit (
    seq     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL,
    actor   text        NOT NULL,
    action  text        NOT NULL,
    id      text        NOT NULL,
    name    text        NOT NULL,
    version bigint      NOT NULL,
    fields  text        NOT NULL
);
