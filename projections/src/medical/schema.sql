CREATE TABLE {medical_staff} (
    person_id  TEXT   PRIMARY KEY,
    contact    TEXT   NOT NULL, -- name and phone as the roster lists them, sealed with the person's subject key
    unit       TEXT   NOT NULL,
    post       TEXT   NOT NULL, -- the position (职位)
    granted_at BIGINT NOT NULL,
    granted_seq BIGINT NOT NULL, -- log position of the latest grant: the roster's order and cursor
    revoked_at BIGINT           -- NULL while granted; the row stays for the notices it issued
);
CREATE INDEX {medical_staff}_by_grant ON {medical_staff} (granted_seq);
CREATE TABLE {notices} (
    notice_id        TEXT   PRIMARY KEY,
    number           TEXT   NOT NULL,
    scan_id          TEXT   NOT NULL,
    staff            TEXT   NOT NULL,
    subject          TEXT   NOT NULL,
    unit             TEXT   NOT NULL,
    post             TEXT   NOT NULL,
    observation_from TEXT   NOT NULL,
    observation_to   TEXT   NOT NULL,
    reasons          TEXT   NOT NULL, -- JSON array of reason names
    issued_at        BIGINT NOT NULL,
    seq              BIGINT NOT NULL, -- log position of the issue: newest first, and the cursor
    withdrawn_at     BIGINT,
    withdrawn_as     TEXT,            -- issuer | province_admin
    withdrawal       TEXT             -- the withdrawal's detail
);
CREATE INDEX {notices}_by_staff ON {notices} (staff, seq);
CREATE TABLE {role_grants} (
    person_id  TEXT   NOT NULL,
    role       TEXT   NOT NULL, -- auditor | analyst
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (person_id, role)
);
