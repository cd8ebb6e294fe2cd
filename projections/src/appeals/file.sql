INSERT INTO {appeals} (appeal_id, digest, person_id, reason, record_id, position, filed_at, status)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'open')
ON CONFLICT (appeal_id) DO NOTHING
