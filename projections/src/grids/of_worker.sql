SELECT w.grid_id, g.name, g.region, g.status, w.authorised,
       CASE WHEN c.grid_id = w.grid_id THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END AS current,
       w.bound_at
FROM grid_workers w
JOIN grid_info g ON g.grid_id = w.grid_id
LEFT JOIN grid_current c ON c.person_id = w.person_id
WHERE w.person_id = $1 AND w.unbound_at IS NULL
ORDER BY w.bound_at, w.grid_id
