-- One row per projection: the generation of its tables now serving readers (through views
-- named after the projection's tables) and the log position that generation has applied.
-- A rebuild fills a newer generation beside it, then swaps the views in one transaction.
CREATE TABLE projections (
    name                  TEXT   PRIMARY KEY,
    generation            BIGINT NOT NULL,
    position              BIGINT NOT NULL,
    rebuilding_generation BIGINT,
    rebuild_position      BIGINT,
    updated_at            BIGINT NOT NULL -- Unix time in microseconds
);
