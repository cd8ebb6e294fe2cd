CREATE TABLE {grid_info} (
    grid_id    TEXT   PRIMARY KEY,
    admin      TEXT   NOT NULL,
    code       TEXT   NOT NULL UNIQUE,
    region     TEXT   NOT NULL,
    name       TEXT   NOT NULL, -- the grid's, not a person's
    status     TEXT   NOT NULL, -- pending, active, dissolved
    created_at BIGINT NOT NULL
);
CREATE INDEX {grid_info}_by_region ON {grid_info} (region);
CREATE TABLE {grid_workers} (
    grid_id    TEXT   NOT NULL,
    person_id  TEXT   NOT NULL,
    bound_at   BIGINT NOT NULL,
    unbound_at BIGINT,
    authorised BIGINT NOT NULL,
    PRIMARY KEY (grid_id, person_id, bound_at)
);
CREATE INDEX {grid_workers}_by_person ON {grid_workers} (person_id);
CREATE TABLE {grid_current} (
    person_id TEXT PRIMARY KEY,
    grid_id   TEXT NOT NULL
);
CREATE TABLE {grid_visits} (
    visit_id  TEXT   PRIMARY KEY,
    grid_id   TEXT   NOT NULL,
    worker    TEXT   NOT NULL,
    person_id TEXT,                   -- the scanned person; NULL for a visit entered by hand
    fever     BIGINT NOT NULL,
    symptoms  BIGINT NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX {grid_visits}_by_grid ON {grid_visits} (grid_id, at);
