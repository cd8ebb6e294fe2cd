SELECT worker, fever, symptoms, at FROM grid_visits WHERE grid_id = $1 AND at < $2 ORDER BY at, visit_id
