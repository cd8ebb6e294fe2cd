-- The append-only event log. Positions are assigned by the single writer under
-- BEGIN IMMEDIATE, so they are gap-free and commit-ordered.
CREATE TABLE events (
    position       INTEGER PRIMARY KEY,
    stream         TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    event_type     TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    payload        TEXT    NOT NULL,
    metadata       TEXT    NOT NULL,
    recorded_at    INTEGER NOT NULL, -- Unix time in microseconds, UTC
    hash           BLOB    NOT NULL, -- SHA-256 chained to the previous position
    UNIQUE (stream, version)
);

CREATE INDEX events_type ON events (event_type, position);

CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE is refused');
END;

CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE is refused');
END;

-- Answers remembered under idempotency keys, written in the same transaction as the events.
CREATE TABLE idempotency_keys (
    key          TEXT    PRIMARY KEY,
    request_hash TEXT    NOT NULL,
    response     TEXT    NOT NULL,
    position     INTEGER NOT NULL
);
