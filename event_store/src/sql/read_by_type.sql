-- Served by the (event_type, position) index.
SELECT position, stream, version, event_type, schema_version, payload, metadata, recorded_at, hash
FROM events WHERE position > $1 AND event_type = $2 ORDER BY position LIMIT $3
