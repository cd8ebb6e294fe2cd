CREATE TABLE {event_counts} (
    event_type    TEXT   PRIMARY KEY,
    events        BIGINT NOT NULL,
    last_position BIGINT NOT NULL
);
