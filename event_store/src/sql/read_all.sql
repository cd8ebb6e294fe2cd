SELECT position, stream, version, event_type, schema_version, payload, metadata, recorded_at, hash
FROM events WHERE position > $1 ORDER BY position LIMIT $2
