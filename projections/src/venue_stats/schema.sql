CREATE TABLE {venue_checks} (
    venue_id  TEXT   NOT NULL,
    position  BIGINT NOT NULL, -- the check's log position: the latest check has the highest
    day       TEXT   NOT NULL, -- YYYY-MM-DD, China Standard Time
    hour      BIGINT NOT NULL, -- 0..23, China Standard Time
    person_id TEXT   NOT NULL, -- who was checked (an opaque id; never shown in statistics)
    inspector TEXT,            -- NULL for a quick check-in
    band      TEXT   NOT NULL,
    sex       TEXT,
    age_band  TEXT,
    PRIMARY KEY (venue_id, position)
);
CREATE INDEX {venue_checks}_by_day ON {venue_checks} (venue_id, day, person_id, position);
