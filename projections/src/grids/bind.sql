INSERT INTO {grid_workers} (grid_id, person_id, bound_at, authorised) VALUES ($1, $2, $3, 0)
ON CONFLICT (grid_id, person_id, bound_at) DO UPDATE SET unbound_at = NULL, authorised = 0
