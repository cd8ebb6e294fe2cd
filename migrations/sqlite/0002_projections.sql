-- One row per projection: the generation of its tables now serving readers (through views
-- named after the projection's tables) and the log position that generation has applied.
-- A rebuild fills a newer generation beside it, then swaps the views in one transaction.
CREATE TABLE projections (
    name                  TEXT    PRIMARY KEY,
    generation            INTEGER NOT NULL,
    position              INTEGER NOT NULL,
    rebuilding_generation INTEGER,
    rebuild_position      INTEGER,
    updated_at            INTEGER NOT NULL -- Unix time in microseconds
);
