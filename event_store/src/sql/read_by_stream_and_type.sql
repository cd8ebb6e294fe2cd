SELECT position, stream, version, event_type, schema_version, payload, metadata, recorded_at, hash
FROM events WHERE position > $1 AND stream = $2 AND event_type = $3 ORDER BY version LIMIT $4
