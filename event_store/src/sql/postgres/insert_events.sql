WITH inserted AS (
    INSERT INTO events (position, stream, version, event_type, schema_version, payload, metadata, recorded_at, hash)
    SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::bigint[], $9::bytea[])
    RETURNING position
)
SELECT pg_notify('yuekang_events', (SELECT MAX(position) FROM inserted)::text)
