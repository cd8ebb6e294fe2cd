-- A subject's first data key; a concurrent first seal that won keeps its key.
INSERT INTO subject_keys (subject, wrapped, created_at) VALUES ($1, $2, $3)
ON CONFLICT (subject) DO NOTHING
