SELECT COUNT(*) AS visits FROM grid_visits WHERE grid_id = $1 AND person_id = $2
