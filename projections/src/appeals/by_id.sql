SELECT appeal_id, digest, person_id, reason, record_id, position, filed_at, status, detail, decided_at
FROM appeals WHERE appeal_id = $1
