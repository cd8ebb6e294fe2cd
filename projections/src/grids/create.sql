INSERT INTO {grid_info} (grid_id, admin, code, region, name, status, created_at)
VALUES ($1, $2, $3, $4, $5, 'pending', $6)
