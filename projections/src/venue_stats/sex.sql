SELECT sex AS label, COUNT(DISTINCT person_id) AS n FROM venue_checks
WHERE venue_id = $1 AND day = $2 AND sex IS NOT NULL GROUP BY sex
