SELECT notice_id, number, scan_id, staff, subject, unit, post, observation_from, observation_to,
       reasons, issued_at, seq, withdrawn_at, withdrawn_as, withdrawal FROM notices
WHERE notice_id = $1
