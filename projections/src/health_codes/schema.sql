CREATE TABLE {red_reasons} (
    digest    TEXT   NOT NULL, -- keyed hash of the document: reasons exist before registration
    reason    TEXT   NOT NULL,
    record_id TEXT   NOT NULL, -- the feed record the reason came from
    since     BIGINT NOT NULL, -- Unix seconds, the record's effective time
    PRIMARY KEY (digest, reason)
);
