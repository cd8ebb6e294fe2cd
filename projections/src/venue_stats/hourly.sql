SELECT hour, COUNT(*) AS n FROM venue_checks WHERE venue_id = $1 AND day = $2 GROUP BY hour
