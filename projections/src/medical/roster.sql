SELECT person_id, contact, unit, post, granted_at, granted_seq, revoked_at FROM medical_staff
WHERE revoked_at IS NULL AND granted_seq > $1 ORDER BY granted_seq LIMIT $2
