SELECT grid_id FROM grid_info WHERE admin = $1 ORDER BY created_at, grid_id
