SELECT inspector AS label,
       CAST(SUM(CASE WHEN day = $2 THEN 1 ELSE 0 END) AS BIGINT) AS today,
       COUNT(*) AS total
FROM venue_checks WHERE venue_id = $1 AND day <= $2 AND inspector IS NOT NULL
GROUP BY inspector ORDER BY inspector
