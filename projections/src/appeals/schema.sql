CREATE TABLE {appeals} (
    appeal_id  TEXT   PRIMARY KEY,
    digest     TEXT   NOT NULL,
    person_id  TEXT   NOT NULL,
    reason     TEXT   NOT NULL,
    record_id  TEXT   NOT NULL,
    position   BIGINT NOT NULL,
    filed_at   BIGINT NOT NULL,
    status     TEXT   NOT NULL, -- open | granted | refused
    detail     TEXT,
    decided_at BIGINT
);
CREATE INDEX {appeals}_open ON {appeals} (status, position);
