CREATE TABLE {red_regions} (
    digest TEXT   NOT NULL, -- keyed hash of the document, as in red_reasons
    reason TEXT   NOT NULL,
    region TEXT   NOT NULL, -- the feed record's region (an NBS code prefix)
    since  BIGINT NOT NULL,
    PRIMARY KEY (digest, reason)
);
CREATE INDEX {red_regions}_by_region ON {red_regions} (region);
