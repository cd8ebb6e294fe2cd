INSERT INTO events (position, stream, version, event_type, schema_version, payload, metadata, recorded_at, hash)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, unhex(value ->> 8)
FROM json_each(?1)
