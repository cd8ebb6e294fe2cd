SELECT person_id, contact, unit, post, granted_at, granted_seq, revoked_at FROM medical_staff
WHERE person_id = $1
