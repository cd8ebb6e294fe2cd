INSERT INTO {notices} (notice_id, number, scan_id, staff, subject, unit, post, observation_from,
    observation_to, reasons, issued_at, seq)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (notice_id) DO NOTHING
