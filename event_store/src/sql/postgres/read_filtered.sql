SELECT position, stream, version, event_type, schema_version, payload, metadata, recorded_at, hash
FROM events
WHERE position > $1
  AND ($2::text IS NULL OR stream = $2)
  AND ($3::text IS NULL OR event_type = $3)
ORDER BY position
LIMIT $4
