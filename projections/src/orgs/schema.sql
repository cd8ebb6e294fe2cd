CREATE TABLE {org_info} (
    org_id        TEXT   PRIMARY KEY,
    admin         TEXT   NOT NULL UNIQUE, -- person id: one admin, one org
    code          TEXT   NOT NULL UNIQUE,
    name          TEXT   NOT NULL,
    address       TEXT   NOT NULL,        -- the organisation's, not a person's
    level         TEXT   NOT NULL,
    phone         TEXT   NOT NULL,        -- sealed under the admin's key
    registered_at BIGINT NOT NULL,        -- Unix seconds
    last_edit_at  BIGINT                  -- Unix seconds of the last edit, if any
);
CREATE TABLE {org_members} (
    org_id     TEXT   NOT NULL,
    person_id  TEXT   NOT NULL,
    bound_at   BIGINT NOT NULL,
    unbound_at BIGINT,            -- NULL while bound; a rebinding is a new row
    PRIMARY KEY (org_id, person_id, bound_at)
);
CREATE INDEX {org_members}_by_person ON {org_members} (person_id);
CREATE TABLE {org_daily} (
    org_id       TEXT   NOT NULL,
    day          TEXT   NOT NULL, -- YYYY-MM-DD, China Standard Time
    person_id    TEXT   NOT NULL,
    declarations BIGINT NOT NULL, -- declarations the person filed for the org that day
    fever        BIGINT NOT NULL, -- 1 when the person's latest declaration of the day has fever
    symptoms     BIGINT NOT NULL, -- 1 when it reports any symptom
    PRIMARY KEY (org_id, day, person_id)
);
