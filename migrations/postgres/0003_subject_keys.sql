-- The personal-data vault's keys: one AES-256 data key per subject (a person, a grid, …),
-- wrapped under the master key. Unlike the event log these rows may be deleted: deleting a
-- subject's row shreds its personal data, which stays in the log but can never be decrypted.
CREATE TABLE subject_keys (
    subject    TEXT    PRIMARY KEY,
    wrapped    TEXT    NOT NULL, -- v1.<base64 nonce>.<base64 ciphertext+tag>, AAD = subject
    created_at BIGINT  NOT NULL  -- Unix time in microseconds, UTC
);
