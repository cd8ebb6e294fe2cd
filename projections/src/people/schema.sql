CREATE TABLE {people} (
    person_id     TEXT   PRIMARY KEY,
    digest        TEXT   NOT NULL UNIQUE, -- keyed hash of the document, never the document
    document_kind TEXT   NOT NULL,
    profile       TEXT,                   -- sealed name, phone, document; NULL once shredded
    sex           TEXT,
    birth_date    TEXT,
    registered_at BIGINT NOT NULL         -- Unix seconds
);
CREATE TABLE {family} (
    guardian TEXT   NOT NULL,
    member   TEXT   NOT NULL,
    relation TEXT   NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (guardian, member)
);
CREATE TABLE {region_admins} (
    region       TEXT   PRIMARY KEY,
    digest       TEXT   NOT NULL,
    appointed_at BIGINT NOT NULL
);
CREATE INDEX {region_admins}_by_digest ON {region_admins} (digest);
