UPDATE {grid_workers} SET unbound_at = $3 WHERE grid_id = $1 AND person_id = $2 AND unbound_at IS NULL
