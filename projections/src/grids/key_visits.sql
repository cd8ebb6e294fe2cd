SELECT visit_id, person_id, fever, symptoms, at FROM grid_visits
WHERE grid_id = $1 AND at >= $2 AND (fever <> 0 OR symptoms <> 0)
ORDER BY at DESC, visit_id
