INSERT INTO {medical_staff} (person_id, contact, unit, post, granted_at, granted_seq, revoked_at)
VALUES ($1, $2, $3, $4, $5, $6, NULL)
ON CONFLICT (person_id) DO UPDATE SET contact = excluded.contact, unit = excluded.unit,
    post = excluded.post, granted_at = excluded.granted_at, granted_seq = excluded.granted_seq,
    revoked_at = NULL
