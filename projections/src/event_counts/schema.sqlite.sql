CREATE TABLE {event_counts} (
    event_type    TEXT    PRIMARY KEY,
    events        INTEGER NOT NULL,
    last_position INTEGER NOT NULL
);
