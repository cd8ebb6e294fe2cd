INSERT INTO {event_counts} AS c (event_type, events, last_position) VALUES ($1, $2, $3)
ON CONFLICT (event_type) DO UPDATE SET events = c.events + EXCLUDED.events, last_position = EXCLUDED.last_position
