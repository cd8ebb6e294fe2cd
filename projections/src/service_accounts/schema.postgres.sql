CREATE TABLE {service_accounts} (
    account_id TEXT    PRIMARY KEY,
    role       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    token_hash TEXT    NOT NULL UNIQUE,
    created_at BIGINT NOT NULL, -- Unix seconds
    revoked    BOOLEAN NOT NULL DEFAULT FALSE
);
