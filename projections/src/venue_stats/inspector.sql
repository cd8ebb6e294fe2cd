SELECT CAST(COALESCE(SUM(CASE WHEN day = $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS today,
       COUNT(*) AS total
FROM venue_checks WHERE venue_id = $1 AND day <= $2 AND inspector = $3
