INSERT INTO {history} (person_id, kind, position, body) VALUES ($1, $2, $3, $4)
ON CONFLICT (person_id, kind, position) DO NOTHING
