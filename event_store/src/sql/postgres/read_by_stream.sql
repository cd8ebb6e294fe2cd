-- Served by the (stream, version) index.
SELECT position, stream, version, event_type, schema_version, payload, metadata, recorded_at, hash
FROM events WHERE stream = $2 AND position > $1 ORDER BY version LIMIT $3
