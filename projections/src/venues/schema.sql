CREATE TABLE {venue_info} (
    venue_id      TEXT   PRIMARY KEY,
    admin         TEXT   NOT NULL,
    code          TEXT   NOT NULL UNIQUE,
    name          TEXT   NOT NULL,
    region        TEXT   NOT NULL,
    venue_type    TEXT   NOT NULL,
    address       TEXT   NOT NULL, -- the place's, not a person's
    created_at    BIGINT NOT NULL
);
CREATE INDEX {venue_info}_by_admin ON {venue_info} (admin);
CREATE TABLE {venue_inspectors} (
    venue_id   TEXT   NOT NULL,
    person_id  TEXT   NOT NULL,
    bound_at   BIGINT NOT NULL,
    unbound_at BIGINT,
    PRIMARY KEY (venue_id, person_id, bound_at)
);
CREATE INDEX {venue_inspectors}_by_person ON {venue_inspectors} (person_id);
