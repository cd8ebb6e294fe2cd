SELECT position, stream, version, event_type, schema_version, payload, metadata, recorded_at, hash
FROM events WHERE stream = $2 AND event_type = $3 AND position > $1 ORDER BY version LIMIT $4
