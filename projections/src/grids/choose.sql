INSERT INTO {grid_current} (person_id, grid_id) VALUES ($1, $2)
ON CONFLICT (person_id) DO UPDATE SET grid_id = excluded.grid_id
