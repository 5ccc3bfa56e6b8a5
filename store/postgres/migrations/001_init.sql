-- regcred schema version 1 (PostgreSQL). The same version exists for SQLite in
-- store/sqlite/migrations/001_init.sql.

-- One row per saved registry: its stored form (registry.MarshalStored, or the sealed form
-- when store/sealed wraps the store) and its version, for the optimistic-concurrency rule.
CREATE TABLE regcred_registries (
    id         text        NOT NULL PRIMARY KEY,
    version    bigint      NOT NULL CHECK (version >= 1),
    record     text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Each record's health (registry.HealthStore): beside the record, never bumping its
-- version, deleted with it.
CREATE TABLE regcred_health (
    id     text NOT NULL PRIMARY KEY REFERENCES regcred_registries (id) ON DELETE CASCADE,
    health text NOT NULL
);

-- Leader leases (Store.Acquire): the fencing number of each lease name, incremented by
-- every acquisition; fenced writers check it in their transaction.
CREATE TABLE regcred_leases (
    name        text        NOT NULL PRIMARY KEY,
    fence       bigint      NOT NULL,
    holder      text        NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT now()
);

-- The change feed: every committed put (a new version) and delete is announced on the
-- channel regcred_changes, delivered in commit order to every listener (any replica). A
-- rewrite at the same version is not a change. A payload too long for NOTIFY (an id of
-- kilobytes) becomes a resync.
CREATE FUNCTION regcred_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        payload := json_build_object('op', 'delete', 'id', OLD.id, 'version', OLD.version)::text;
    ELSIF TG_OP = 'UPDATE' AND OLD.version = NEW.version AND OLD.id = NEW.id THEN
        RETURN NULL;
    ELSE
        payload := json_build_object('op', 'put', 'id', NEW.id, 'version', NEW.version)::text;
    END IF;
    IF octet_length(payload) > 7900 THEN
        payload := '{"op":"resync"}';
    END IF;
    PERFORM pg_notify('regcred_changes', payload);
    RETURN NULL;
END
$$;

CREATE TRIGGER regcred_registries_notify
    AFTER INSERT OR UPDATE OR DELETE ON regcred_registries
    FOR EACH ROW EXECUTE FUNCTION regcred_notify_change();
