-- Followed by one "(?, ?, ?, ?, ?, ?, ?, ?, ?)" per row (see sqlite.rs: statements of 256,
-- 64, 16, 4 and 1 rows are prepared once and reused).
INSERT INTO events (position, stream, version, event_type, schema_version, payload, metadata, recorded_at, hash) VALUES
