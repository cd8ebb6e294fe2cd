CREATE TABLE {history} (
    person_id TEXT   NOT NULL,
    kind      TEXT   NOT NULL, -- declaration | entry | check | notice | access
    position  BIGINT NOT NULL, -- the event's log position: newest first, and the page cursor
    body      TEXT   NOT NULL, -- the item as the API shows it (JSON; no personal data)
    PRIMARY KEY (person_id, kind, position)
);
