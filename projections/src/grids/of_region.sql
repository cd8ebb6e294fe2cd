SELECT g.grid_id, g.code, g.region, g.name, g.status, g.created_at,
    (SELECT COUNT(*) FROM grid_workers w
        WHERE w.grid_id = g.grid_id AND w.unbound_at IS NULL) AS workers,
    (SELECT COUNT(*) FROM grid_workers w
        WHERE w.grid_id = g.grid_id AND w.unbound_at IS NULL AND w.authorised <> 0) AS authorised,
    (SELECT COUNT(*) FROM grid_visits v
        WHERE v.grid_id = g.grid_id AND v.at >= $2 AND v.at < $3) AS visits_today,
    (SELECT COUNT(*) FROM grid_visits v
        WHERE v.grid_id = g.grid_id AND v.at < $3) AS visits_total
FROM grid_info g
WHERE g.region LIKE $1 AND ($4 = '' OR g.status = $4) AND g.created_at < $3
ORDER BY g.region, g.created_at, g.grid_id
