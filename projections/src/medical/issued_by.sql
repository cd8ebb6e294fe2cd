SELECT notice_id, number, scan_id, staff, subject, unit, post, observation_from, observation_to,
       reasons, issued_at, seq, withdrawn_at, withdrawn_as, withdrawal FROM notices
WHERE staff = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3
