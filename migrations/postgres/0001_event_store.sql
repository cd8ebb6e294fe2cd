-- The append-only event log. Positions are assigned by the writer under a transaction-scoped
-- advisory lock, so they are gap-free and commit-ordered across every server process.
CREATE TABLE events (
    position       BIGINT PRIMARY KEY,
    stream         TEXT   NOT NULL,
    version        BIGINT NOT NULL,
    event_type     TEXT   NOT NULL,
    schema_version BIGINT NOT NULL,
    payload        TEXT   NOT NULL,
    metadata       TEXT   NOT NULL,
    recorded_at    BIGINT NOT NULL, -- Unix time in microseconds, UTC
    hash           BYTEA  NOT NULL, -- SHA-256 chained to the previous position
    UNIQUE (stream, version)
);

CREATE INDEX events_type ON events (event_type, position);

CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % is refused', TG_OP;
END;
$$;

CREATE TRIGGER events_refuse_update_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_refuse_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- Answers remembered under idempotency keys, written in the same transaction as the events.
CREATE TABLE idempotency_keys (
    key          TEXT   PRIMARY KEY,
    request_hash TEXT   NOT NULL,
    response     TEXT   NOT NULL,
    position     BIGINT NOT NULL
);
