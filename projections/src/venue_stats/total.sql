SELECT COUNT(*) AS checks, COUNT(DISTINCT person_id) AS persons FROM venue_checks
WHERE venue_id = $1 AND day <= $2
