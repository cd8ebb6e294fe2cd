SELECT appeal_id, digest, person_id, reason, record_id, position, filed_at, status, detail, decided_at
FROM appeals WHERE status = 'open' AND position > $1 ORDER BY position LIMIT $2
