-- Served by the (stream, version) index.
SELECT position, stream, version, event_type, schema_version, payload, metadata, recorded_at, hash
FROM events WHERE position > $1 AND stream = $2 ORDER BY version LIMIT $3
