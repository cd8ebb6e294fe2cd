INSERT INTO {event_counts} (event_type, events, last_position) VALUES (?1, ?2, ?3)
ON CONFLICT (event_type) DO UPDATE SET events = events + excluded.events, last_position = excluded.last_position
